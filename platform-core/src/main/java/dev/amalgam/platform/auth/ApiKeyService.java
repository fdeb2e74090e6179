package dev.amalgam.platform.auth;

import dev.amalgam.platform.error.ApiException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.annotation.Transactional;

/**
 * Tenants and their API keys. Keys are random 32-byte secrets shown once; only their sha256 is stored.
 */
public class ApiKeyService {

    /** Prefix of every secret, so leaked keys are easy to recognise (and to scan for). */
    static final String SECRET_PREFIX = "amk_";

    private final JdbcClient jdbc;
    private final SecureRandom random = new SecureRandom();

    public ApiKeyService(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** A tenant as listed to admins. */
    public record Tenant(UUID id, String name, OffsetDateTime createdAt) {
    }

    /** A key as listed to admins: never the secret. */
    public record ApiKey(UUID id, UUID tenantId, String name, String prefix, boolean admin,
                         OffsetDateTime createdAt, OffsetDateTime revokedAt) {
    }

    /** A freshly created key with its secret; the only time the secret is visible. */
    public record CreatedKey(ApiKey key, String secret) {
    }

    public Optional<Caller> authenticate(String secret) {
        if (secret == null || secret.isBlank()) {
            return Optional.empty();
        }
        return jdbc.sql("""
                        select k.id, k.tenant_id, t.name, k.admin from api_keys k join tenants t on t.id = k.tenant_id
                        where k.key_hash = :hash and k.revoked_at is null""")
                .param("hash", hash(secret))
                .query((rs, i) -> new Caller(rs.getObject(2, UUID.class), rs.getString(3), rs.getObject(1, UUID.class), rs.getBoolean(4)))
                .optional();
    }

    @Transactional
    public Tenant createTenant(String name) {
        if (findTenant(name).isPresent()) {
            throw ApiException.conflict("A tenant named '" + name + "' already exists");
        }
        UUID id = UUID.randomUUID();
        jdbc.sql("insert into tenants (id, name) values (:id, :name)").param("id", id).param("name", name).update();
        return findTenant(name).orElseThrow();
    }

    public Optional<Tenant> findTenant(String name) {
        return jdbc.sql("select id, name, created_at from tenants where name = :name").param("name", name)
                .query((rs, i) -> new Tenant(rs.getObject(1, UUID.class), rs.getString(2), rs.getObject(3, OffsetDateTime.class)))
                .optional();
    }

    public List<Tenant> tenants() {
        return jdbc.sql("select id, name, created_at from tenants order by created_at")
                .query((rs, i) -> new Tenant(rs.getObject(1, UUID.class), rs.getString(2), rs.getObject(3, OffsetDateTime.class)))
                .list();
    }

    /** Creates a key with a new random secret. */
    public CreatedKey createKey(UUID tenantId, String name, boolean admin) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String secret = SECRET_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        return new CreatedKey(insertKey(tenantId, name, admin, secret), secret);
    }

    /** Registers a key whose secret the operator chose (the bootstrap key from the environment). */
    public ApiKey insertKey(UUID tenantId, String name, boolean admin, String secret) {
        UUID id = UUID.randomUUID();
        jdbc.sql("""
                        insert into api_keys (id, tenant_id, name, key_hash, key_prefix, admin)
                        values (:id, :tenant, :name, :hash, :prefix, :admin)""")
                .param("id", id).param("tenant", tenantId).param("name", name).param("hash", hash(secret))
                .param("prefix", secret.substring(0, Math.min(8, secret.length()))).param("admin", admin)
                .update();
        return key(id).orElseThrow();
    }

    public Optional<ApiKey> key(UUID id) {
        return jdbc.sql("select id, tenant_id, name, key_prefix, admin, created_at, revoked_at from api_keys where id = :id")
                .param("id", id).query(ApiKeyService::mapKey).optional();
    }

    public List<ApiKey> keys(UUID tenantId) {
        return jdbc.sql("select id, tenant_id, name, key_prefix, admin, created_at, revoked_at from api_keys where tenant_id = :t order by created_at")
                .param("t", tenantId).query(ApiKeyService::mapKey).list();
    }

    /** Revokes a key; returns false if there was no such live key. */
    public boolean revoke(UUID keyId) {
        return jdbc.sql("update api_keys set revoked_at = now() where id = :id and revoked_at is null").param("id", keyId).update() == 1;
    }

    public boolean hasKeyWithSecret(String secret) {
        return jdbc.sql("select count(*) from api_keys where key_hash = :h").param("h", hash(secret)).query(Long.class).single() > 0;
    }

    public long countKeys() {
        return jdbc.sql("select count(*) from api_keys").query(Long.class).single();
    }

    private static ApiKey mapKey(java.sql.ResultSet rs, int i) throws java.sql.SQLException {
        return new ApiKey(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), rs.getString(3), rs.getString(4),
                rs.getBoolean(5), rs.getObject(6, OffsetDateTime.class), rs.getObject(7, OffsetDateTime.class));
    }

    static String hash(String secret) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
