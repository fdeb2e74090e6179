package dev.amalgam.platform.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MasterKeyTest {

    @TempDir
    Path dir;

    private static final byte[] AAD = "tenant\0name".getBytes(StandardCharsets.UTF_8);

    @Test
    void sealedSecretOpensWithTheSameKeyAndIsPlainAesGcmOfIt() throws Exception {
        byte[] raw = new byte[32];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) (i * 7 + 1);
        }
        MasterKey key = MasterKey.parse(Base64.getEncoder().encodeToString(raw), "test");
        byte[] secret = "sk-test-1234".getBytes(StandardCharsets.UTF_8);
        MasterKey.Sealed sealed = key.seal(secret, AAD);
        assertThat(sealed.nonce()).hasSize(12);
        // ciphertext = plaintext length + the 16-byte tag, and not the plaintext
        assertThat(sealed.ciphertext()).hasSize(secret.length + 16);
        assertThat(new String(sealed.ciphertext(), StandardCharsets.ISO_8859_1)).doesNotContain("sk-test");
        assertThat(key.open(sealed, AAD)).isEqualTo(secret);
        // the JDK's AES/GCM with the raw key, the nonce and the associated data opens it: standard AES-256-GCM
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(raw, "AES"), new GCMParameterSpec(128, sealed.nonce()));
        c.updateAAD(AAD);
        assertThat(c.doFinal(sealed.ciphertext())).isEqualTo(secret);
        // a fresh nonce each time
        assertThat(key.seal(secret, AAD).nonce()).isNotEqualTo(sealed.nonce());
    }

    @Test
    void anotherKeyOrOtherAssociatedDataOrAFlippedBitDoesNotOpen() {
        MasterKey key = MasterKey.random();
        MasterKey.Sealed sealed = key.seal("secret".getBytes(StandardCharsets.UTF_8), AAD);
        assertThatThrownBy(() -> MasterKey.random().open(sealed, AAD)).isInstanceOf(AEADBadTagException.class);
        assertThatThrownBy(() -> key.open(sealed, "other\0name".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(AEADBadTagException.class);
        byte[] flipped = sealed.ciphertext().clone();
        flipped[0] ^= 1;
        assertThatThrownBy(() -> key.open(new MasterKey.Sealed(sealed.nonce(), flipped), AAD))
                .isInstanceOf(AEADBadTagException.class);
    }

    @Test
    void idNamesTheKeyStablyAndDiffersBetweenKeysWithoutContainingIt() {
        String text = Base64.getEncoder().encodeToString(new byte[32]);
        MasterKey a = MasterKey.parse(text, "a");
        assertThat(MasterKey.parse(text, "b").id()).isEqualTo(a.id()).hasSize(16).matches("[0-9a-f]{16}");
        assertThat(MasterKey.random().id()).isNotEqualTo(a.id());
        assertThat(a.toString()).isEqualTo("MasterKey[id=" + a.id() + "]").doesNotContain(text);
    }

    @Test
    void aKeyThatIsNotBase64Of32BytesIsRefusedWithoutRepeatingIt() {
        String shortKey = Base64.getEncoder().encodeToString("sixteen-bytes-xx".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> MasterKey.parse(shortKey, "amalgam.credentials.master-key"))
                .hasMessageContaining("amalgam.credentials.master-key: decodes to 16 bytes")
                .hasMessageNotContaining(shortKey);
        assertThatThrownBy(() -> MasterKey.parse("not base64 !!", "amalgam.credentials.master-key"))
                .hasMessageContaining("not base64").hasMessageNotContaining("!!");
    }

    @Test
    void readOrCreateWritesAnOwnerOnlyFileOnceAndReadsTheSameKeyAfter() throws Exception {
        Path file = dir.resolve("data/credentials-key");
        MasterKey first = MasterKey.readOrCreate(file);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(Base64.getDecoder().decode(Files.readString(file).trim())).hasSize(32);
        assertThat(MasterKey.readOrCreate(file).id()).isEqualTo(first.id());
        assertThat(MasterKey.read(file).id()).isEqualTo(first.id());
    }

    @Test
    void configuredTakesTheTextOrTheFileButNotBoth() throws Exception {
        Path file = dir.resolve("key");
        MasterKey fromFile = MasterKey.readOrCreate(file);
        String text = Files.readString(file).trim();
        assertThat(MasterKey.configured(null, "")).isNull();
        assertThat(MasterKey.configured(text, null).id()).isEqualTo(fromFile.id());
        assertThat(MasterKey.configured("", file.toString()).id()).isEqualTo(fromFile.id());
        assertThatThrownBy(() -> MasterKey.configured(text, file.toString())).hasMessageContaining("not both");
        Files.writeString(file, "garbage");
        assertThatThrownBy(() -> MasterKey.configured(null, file.toString())).hasMessageContaining("the master key file");
    }
}
