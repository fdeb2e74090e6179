package dev.amalgam.platform.auth;

import dev.amalgam.platform.config.AmalgamProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the first tenant ("default") and its admin key. The key comes from AMALGAM_API_KEY
 * ({@code amalgam.auth.bootstrap-key}), or is generated once, written to {@code <data-dir>/api-key}
 * with mode 0600 and printed once.
 */
public class ApiKeyBootstrap {

    private static final Logger log = LoggerFactory.getLogger(ApiKeyBootstrap.class);
    public static final String DEFAULT_TENANT = "default";

    private final ApiKeyService keys;
    private final AmalgamProperties properties;

    public ApiKeyBootstrap(ApiKeyService keys, AmalgamProperties properties) {
        this.keys = keys;
        this.properties = properties;
    }

    public void run() {
        var tenant = keys.findTenant(DEFAULT_TENANT).orElseGet(() -> keys.createTenant(DEFAULT_TENANT));
        String configured = properties.auth().bootstrapKey();
        if (configured != null && !configured.isBlank()) {
            if (!keys.hasKeyWithSecret(configured)) {
                keys.insertKey(tenant.id(), "bootstrap (AMALGAM_API_KEY)", true, configured);
                log.info("Registered the admin key from AMALGAM_API_KEY for tenant '{}'", DEFAULT_TENANT);
            }
            return;
        }
        if (keys.countKeys() > 0) {
            return;
        }
        var created = keys.createKey(tenant.id(), "bootstrap (generated)", true);
        Path file = properties.dataDir().resolve("api-key");
        try {
            Files.createDirectories(file.getParent());
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, created.secret() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write the generated API key to " + file, e);
        }
        System.out.println();
        System.out.println("  Generated the first admin API key (shown once; also saved to " + file + "):");
        System.out.println("    " + created.secret());
        System.out.println();
    }
}
