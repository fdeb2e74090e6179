package dev.amalgam.platform.credential;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.crypto.AEADBadTagException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A tenant's registered credentials: named secrets (a judge endpoint's API key) that job specs name instead of
 * carrying. The secret is stored sealed under the {@link MasterKey} and is returned by {@link #secret} only, which the
 * worker calls when the job runs; listings show the name, a short fingerprint and the creation time.
 *
 * <p>Without a master key (none configured) credentials can still be listed, checked and deleted, but not created or
 * opened: those answer {@link CredentialException} saying how to configure one.
 */
public class CredentialService {

    /** A credential's name: as an artifact's, 1-100 letters, digits, '.', '_' and '-', starting with a letter or digit. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    /** The longest secret accepted, in characters. */
    public static final int MAX_SECRET_LENGTH = 8192;

    private final JdbcClient jdbc;
    private final MasterKey key;

    /** @param key the master key, or null when none is configured */
    public CredentialService(JdbcClient jdbc, MasterKey key) {
        this.jdbc = jdbc;
        this.key = key;
    }

    /** A credential as listed: never the secret. */
    public record Credential(String name, String fingerprint, OffsetDateTime createdAt) {
    }

    /** A credential that cannot be created or opened: no master key, another master key, a deleted credential. */
    public static final class CredentialException extends IllegalStateException {
        public CredentialException(String message) {
            super(message);
        }
    }

    /** Whether a master key is configured, so that credentials can be created and opened here. */
    public boolean available() {
        return key != null;
    }

    /** Every problem of a new credential's name and secret; the secret itself is never repeated. */
    public static List<String> problems(String name, String secret) {
        List<String> problems = new ArrayList<>();
        if (name == null || !NAME.matcher(name).matches()) {
            problems.add("name: 1-100 letters, digits, '.', '_' and '-', starting with a letter or digit");
        }
        if (secret == null || secret.isEmpty()) {
            problems.add("secret: required");
        } else if (secret.length() > MAX_SECRET_LENGTH) {
            problems.add("secret: at most " + MAX_SECRET_LENGTH + " characters, got " + secret.length());
        } else if (!secret.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
            // it is sent as a Bearer token in an HTTP header
            problems.add("secret: only visible ASCII characters (no spaces or control characters): it is sent as an "
                    + "HTTP Bearer token");
        }
        return problems;
    }

    /**
     * Seals and stores a new credential.
     *
     * @throws IllegalArgumentException with every problem of the name and secret
     * @throws DuplicateKeyException when the tenant already has a credential of this name
     * @throws CredentialException when no master key is configured
     */
    public Credential create(UUID tenant, String name, String secret) {
        List<String> problems = problems(name, secret);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        MasterKey k = requireKey();
        MasterKey.Sealed sealed = k.seal(secret.getBytes(StandardCharsets.UTF_8), associatedData(tenant, name));
        jdbc.sql("""
                        insert into credentials (id, tenant_id, name, nonce, ciphertext, master_key_id, fingerprint)
                        values (:id, :tenant, :name, :nonce, :ciphertext, :keyId, :fingerprint)""")
                .param("id", UUID.randomUUID()).param("tenant", tenant).param("name", name)
                .param("nonce", sealed.nonce()).param("ciphertext", sealed.ciphertext()).param("keyId", k.id())
                .param("fingerprint", fingerprint(secret))
                .update();
        return find(tenant, name).orElseThrow();
    }

    /** The tenant's credentials by name. */
    public List<Credential> list(UUID tenant) {
        return jdbc.sql("select name, fingerprint, created_at from credentials where tenant_id = :t order by name")
                .param("t", tenant).query(CredentialService::map).list();
    }

    /** The tenant's credential of this name. */
    public Optional<Credential> find(UUID tenant, String name) {
        return jdbc.sql("select name, fingerprint, created_at from credentials where tenant_id = :t and name = :n")
                .param("t", tenant).param("n", name).query(CredentialService::map).optional();
    }

    /** Deletes the secret for good; returns false when the tenant had no credential of this name. */
    public boolean delete(UUID tenant, String name) {
        return jdbc.sql("delete from credentials where tenant_id = :t and name = :n").param("t", tenant).param("n", name)
                .update() == 1;
    }

    /**
     * Opens the tenant's credential: the secret, for the request that needs it and nothing else (not for logs).
     *
     * @throws CredentialException when the tenant has no such credential (any more), no master key is configured, or
     *                             the credential was sealed under another master key
     */
    public String secret(UUID tenant, String name) {
        record Row(byte[] nonce, byte[] ciphertext, String keyId) {
        }
        Row row = jdbc.sql("select nonce, ciphertext, master_key_id from credentials where tenant_id = :t and name = :n")
                .param("t", tenant).param("n", name)
                .query((rs, i) -> new Row(rs.getBytes(1), rs.getBytes(2), rs.getString(3))).optional()
                .orElseThrow(() -> new CredentialException("the credential '" + name + "' does not exist (any more) in "
                        + "this tenant"));
        MasterKey k = requireKey();
        if (!row.keyId().equals(k.id())) {
            throw new CredentialException("the credential '" + name + "' was encrypted with master key " + row.keyId()
                    + ", but this process has master key " + k.id() + ": configure the same "
                    + "amalgam.credentials.master-key everywhere, or register the credential again");
        }
        try {
            return new String(k.open(new MasterKey.Sealed(row.nonce(), row.ciphertext()), associatedData(tenant, name)),
                    StandardCharsets.UTF_8);
        } catch (AEADBadTagException e) {
            throw new CredentialException("the credential '" + name + "' does not open with master key " + k.id()
                    + " (its stored bytes were altered or copied from elsewhere); register it again");
        }
    }

    /** {@code sha256:} and the first 12 hex digits of the secret's SHA-256 ({@code sha256sum} shows the same digits). */
    public static String fingerprint(String secret) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
            return "sha256:" + HexFormat.of().formatHex(digest).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private MasterKey requireKey() {
        if (key == null) {
            throw new CredentialException("registered credentials need a master key, and none is configured here: set "
                    + "amalgam.credentials.master-key (environment AMALGAM_CREDENTIALS_MASTER_KEY, the base64 of 32 random "
                    + "bytes) or amalgam.credentials.master-key-file on the gateway and on every worker");
        }
        return key;
    }

    /** Binds a sealed secret to its tenant and name: a row copied to another tenant or name does not open. */
    private static byte[] associatedData(UUID tenant, String name) {
        return ("amalgam-credential\0" + tenant + "\0" + name).getBytes(StandardCharsets.UTF_8);
    }

    private static Credential map(java.sql.ResultSet rs, int i) throws java.sql.SQLException {
        return new Credential(rs.getString(1), rs.getString(2), rs.getObject(3, OffsetDateTime.class));
    }
}
