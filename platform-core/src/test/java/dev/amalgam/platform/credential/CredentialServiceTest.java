package dev.amalgam.platform.credential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.platform.testing.Registry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DuplicateKeyException;

/** Credentials in a real (migrated) registry: sealed at rest, per tenant, opened only with the key they were sealed with. */
class CredentialServiceTest {

    static Registry registry;

    @BeforeAll
    static void registry() {
        registry = new Registry();
    }

    @Test
    void roundTripStoresOnlyCiphertextAndListsMetadata() throws Exception {
        UUID tenant = registry.newTenant("cred-round-trip");
        CredentialService credentials = new CredentialService(registry.jdbc, MasterKey.random());
        String secret = "sk-round-trip-0123456789";
        CredentialService.Credential created = credentials.create(tenant, "openai", secret);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
        assertThat(created.name()).isEqualTo("openai");
        assertThat(created.fingerprint()).isEqualTo("sha256:" + sha.substring(0, 12));
        assertThat(created.createdAt()).isNotNull();
        assertThat(credentials.list(tenant)).containsExactly(created);
        assertThat(credentials.find(tenant, "openai")).contains(created);
        assertThat(credentials.secret(tenant, "openai")).isEqualTo(secret);
        // nothing in the row is the secret
        List<String> row = registry.jdbc.sql("select name, encode(nonce, 'escape'), encode(ciphertext, 'escape'), master_key_id, "
                        + "fingerprint from credentials where tenant_id = :t").param("t", tenant)
                .query((rs, i) -> List.of(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5)))
                .single();
        assertThat(String.join("|", row)).doesNotContain(secret).doesNotContain("round-trip-0123");
        assertThat(credentials.delete(tenant, "openai")).isTrue();
        assertThat(credentials.delete(tenant, "openai")).isFalse();
        assertThat(credentials.list(tenant)).isEmpty();
        assertThatThrownBy(() -> credentials.secret(tenant, "openai"))
                .isInstanceOf(CredentialService.CredentialException.class).hasMessageContaining("does not exist");
    }

    @Test
    void aTakenNameInTheSameTenantIsRefusedButAnotherTenantMayUseIt() {
        UUID a = registry.newTenant("cred-a");
        UUID b = registry.newTenant("cred-b");
        CredentialService credentials = new CredentialService(registry.jdbc, MasterKey.random());
        credentials.create(a, "judge", "secret-a");
        assertThatThrownBy(() -> credentials.create(a, "judge", "secret-x")).isInstanceOf(DuplicateKeyException.class);
        credentials.create(b, "judge", "secret-b");
        assertThat(credentials.secret(a, "judge")).isEqualTo("secret-a");
        assertThat(credentials.secret(b, "judge")).isEqualTo("secret-b");
        UUID c = registry.newTenant("cred-c");
        assertThat(credentials.list(c)).isEmpty();
        assertThat(credentials.find(c, "judge")).isEmpty();
        assertThatThrownBy(() -> credentials.secret(c, "judge")).hasMessageContaining("does not exist");
        assertThat(credentials.delete(c, "judge")).isFalse();
        assertThat(credentials.secret(a, "judge")).isEqualTo("secret-a");
    }

    @Test
    void anotherMasterKeyFailsNamingBothKeysAndNotTheSecret() {
        UUID tenant = registry.newTenant("cred-wrong-key");
        MasterKey sealing = MasterKey.random();
        new CredentialService(registry.jdbc, sealing).create(tenant, "judge", "sk-wrong-key-secret");
        MasterKey other = MasterKey.random();
        assertThatThrownBy(() -> new CredentialService(registry.jdbc, other).secret(tenant, "judge"))
                .isInstanceOf(CredentialService.CredentialException.class)
                .hasMessageContaining("encrypted with master key " + sealing.id())
                .hasMessageContaining("this process has master key " + other.id())
                .hasMessageNotContaining("sk-wrong-key-secret");
        CredentialService none = new CredentialService(registry.jdbc, null);
        assertThat(none.available()).isFalse();
        assertThatThrownBy(() -> none.secret(tenant, "judge")).hasMessageContaining("amalgam.credentials.master-key");
        assertThatThrownBy(() -> none.create(tenant, "other", "x")).hasMessageContaining("amalgam.credentials.master-key");
        // listing and deleting need no key
        assertThat(none.list(tenant)).extracting(CredentialService.Credential::name).containsExactly("judge");
    }

    @Test
    void aRowMovedToAnotherTenantDoesNotOpenThere() {
        UUID owner = registry.newTenant("cred-owner");
        UUID thief = registry.newTenant("cred-thief");
        CredentialService credentials = new CredentialService(registry.jdbc, MasterKey.random());
        credentials.create(owner, "judge", "sk-owner");
        // someone with database access moves the sealed row: the associated data (tenant, name) no longer matches
        registry.jdbc.sql("update credentials set tenant_id = :thief where tenant_id = :owner")
                .param("thief", thief).param("owner", owner).update();
        assertThatThrownBy(() -> credentials.secret(thief, "judge"))
                .isInstanceOf(CredentialService.CredentialException.class).hasMessageContaining("does not open")
                .hasMessageNotContaining("sk-owner");
    }

    @Test
    void everyProblemOfANewCredentialIsListedWithoutTheSecret() {
        assertThat(CredentialService.problems(null, null)).containsExactly(
                "name: 1-100 letters, digits, '.', '_' and '-', starting with a letter or digit", "secret: required");
        List<String> problems = CredentialService.problems("-bad", "has space");
        assertThat(problems).hasSize(2);
        assertThat(String.join(" ", problems)).doesNotContain("has space");
        assertThat(CredentialService.problems("ok", "x".repeat(CredentialService.MAX_SECRET_LENGTH + 1)))
                .containsExactly("secret: at most 8192 characters, got 8193");
        assertThat(CredentialService.problems("a.b_c-1", "sk-Visible~ASCII")).isEmpty();
        assertThatThrownBy(() -> new CredentialService(registry.jdbc, MasterKey.random())
                .create(registry.newTenant("cred-bad"), "ok", "line\nbreak"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("break");
    }
}
