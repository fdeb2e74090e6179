package dev.amalgam.platform.credential;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The platform's master key for registered credentials: 32 random bytes (AES-256), given as their base64 in
 * {@code amalgam.credentials.master-key} or in a file ({@code amalgam.credentials.master-key-file}; {@code amalgam up}
 * generates {@code <data-dir>/credentials-key} once, mode 0600). It seals each secret with AES-GCM (a random 96-bit
 * nonce per secret, a 128-bit tag, the tenant and name as associated data).
 *
 * <p>{@link #id()} names the key without revealing it (an HMAC of a constant under the key), so a secret sealed under
 * one key and opened by a process configured with another fails with both ids instead of a bare tag mismatch. The key
 * bytes are in no message and no {@link #toString()}.
 */
public final class MasterKey {

    static final int KEY_BYTES = 32;
    static final int NONCE_BYTES = 12;
    static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] key;
    private final String id;

    private MasterKey(byte[] key) {
        this.key = key.clone();
        this.id = computeId(this.key);
    }

    /**
     * A key from its base64 text; {@code source} names where it came from in the error (the property or the file).
     *
     * @throws IllegalArgumentException when it is not the base64 of exactly 32 bytes (the text is not repeated)
     */
    public static MasterKey parse(String base64, String source) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": not base64; the master key is the base64 of 32 random bytes "
                    + "(e.g. from 'openssl rand -base64 32')");
        }
        if (bytes.length != KEY_BYTES) {
            throw new IllegalArgumentException(source + ": decodes to " + bytes.length + " bytes; the master key is the "
                    + "base64 of exactly 32 random bytes (e.g. from 'openssl rand -base64 32')");
        }
        return new MasterKey(bytes);
    }

    /** Reads a key file (its base64, surrounding whitespace ignored). */
    public static MasterKey read(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.US_ASCII), "the master key file " + file);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read the credentials master key file " + file, e);
        }
    }

    /** Reads {@code file}, or first creates it (mode 0600, owner only) with a new random key when it does not exist. */
    public static MasterKey readOrCreate(Path file) {
        if (!Files.exists(file)) {
            byte[] bytes = new byte[KEY_BYTES];
            RANDOM.nextBytes(bytes);
            try {
                Files.createDirectories(file.toAbsolutePath().getParent());
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(file, Base64.getEncoder().encodeToString(bytes) + "\n", StandardCharsets.US_ASCII);
            } catch (FileAlreadyExistsException raced) {
                // another process created it first: use that one
            } catch (IOException e) {
                throw new UncheckedIOException("Could not write the credentials master key file " + file, e);
            }
        }
        return read(file);
    }

    /**
     * The key a process is configured with: the base64 text ({@code amalgam.credentials.master-key}) or a file
     * ({@code amalgam.credentials.master-key-file}); null when neither is set.
     *
     * @throws IllegalArgumentException when both are set, or the one set is not a valid key
     */
    public static MasterKey configured(String base64, String file) {
        boolean text = base64 != null && !base64.isBlank();
        boolean path = file != null && !file.isBlank();
        if (text && path) {
            throw new IllegalArgumentException("set either amalgam.credentials.master-key or "
                    + "amalgam.credentials.master-key-file, not both");
        }
        if (text) {
            return parse(base64, "amalgam.credentials.master-key");
        }
        return path ? read(Path.of(file)) : null;
    }

    /** A new random key (tests). */
    public static MasterKey random() {
        byte[] bytes = new byte[KEY_BYTES];
        RANDOM.nextBytes(bytes);
        return new MasterKey(bytes);
    }

    /** The key's name: 16 hex digits of HMAC-SHA256(key, "amalgam-credentials-master-key"); it does not reveal the key. */
    public String id() {
        return id;
    }

    /** A sealed secret: the nonce and the ciphertext with GCM's tag appended. */
    public record Sealed(byte[] nonce, byte[] ciphertext) {
    }

    /** Seals {@code plaintext} bound to {@code associatedData}. */
    public Sealed seal(byte[] plaintext, byte[] associatedData) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(associatedData);
            return new Sealed(nonce, cipher.doFinal(plaintext));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JDK", e);
        }
    }

    /**
     * Opens a sealed secret.
     *
     * @throws AEADBadTagException when the key, the associated data or the bytes differ from those it was sealed with
     */
    public byte[] open(Sealed sealed, byte[] associatedData) throws AEADBadTagException {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, sealed.nonce()));
            cipher.updateAAD(associatedData);
            return cipher.doFinal(sealed.ciphertext());
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM could not open the secret: " + e.getMessage(), e);
        }
    }

    private static String computeId(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] tag = mac.doFinal("amalgam-credentials-master-key".getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(Arrays.copyOf(tag, 8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
        }
    }

    @Override
    public String toString() {
        return "MasterKey[id=" + id + "]";
    }
}
