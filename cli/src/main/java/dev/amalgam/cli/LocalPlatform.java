package dev.amalgam.cli;

import dev.amalgam.fusionservice.FusionServiceApplication;
import dev.amalgam.gateway.GatewayApplication;
import dev.amalgam.mergeservice.MergeServiceApplication;
import dev.amalgam.pruningservice.PruningServiceApplication;
import dev.amalgam.platform.config.ImportRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.PortInUseException;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The whole platform in this JVM: embedded PostgreSQL (durable, password-protected: see
 * {@link EmbeddedDatabase}) with its data under the data directory, the
 * three services (API and workers) on loopback ports, and the gateway. Closing stops everything in
 * reverse order.
 *
 * <p>Registered credentials are sealed with the master key of {@code AMALGAM_CREDENTIALS_MASTER_KEY} when it is set,
 * else with the key in {@code <data-dir>/credentials-key}, generated on the first start (mode 0600).
 */
final class LocalPlatform implements AutoCloseable {

    private final EmbeddedDatabase postgres;
    private final List<ConfigurableApplicationContext> contexts = Collections.synchronizedList(new ArrayList<>());
    private int gatewayPort;

    private LocalPlatform(EmbeddedDatabase postgres) {
        this.postgres = postgres;
    }

    /** Starts everything; on failure stops what already started and rethrows. */
    static LocalPlatform start(int port, Path dataDir, Path importRoot) throws IOException {
        return start(port, dataDir, importRoot, Map.of());
    }

    /**
     * As {@link #start(int, Path, Path)}, with {@code serviceProperties} on top of the services' own (not the
     * gateway's), e.g. {@code amalgam.worker.concurrency}.
     */
    static LocalPlatform start(int port, Path dataDir, Path importRoot, Map<String, String> serviceProperties)
            throws IOException {
        ImportRoot.requireSeparate(importRoot, dataDir);
        Files.createDirectories(dataDir);
        Files.createDirectories(importRoot);
        EmbeddedDatabase postgres = EmbeddedDatabase.start(dataDir);
        LocalPlatform platform = new LocalPlatform(postgres);
        try {
            platform.startApplications(port, dataDir, importRoot, serviceProperties);
            return platform;
        } catch (RuntimeException | SQLException e) {
            platform.close();
            if (e instanceof PortInUseException || e.getCause() instanceof PortInUseException) {
                throw new IllegalArgumentException("port " + port + " is already in use; choose another with --port");
            }
            throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
        }
    }

    int port() {
        return gatewayPort;
    }

    /** The master key file {@code amalgam up} generates once in its data directory. */
    static final String CREDENTIALS_KEY_FILE = "credentials-key";

    private void startApplications(int port, Path dataDir, Path importRoot, Map<String, String> serviceProperties)
            throws SQLException {
        releaseJobsOfTheLastRun();
        Map<String, Object> common = new LinkedHashMap<>();
        common.put("spring.datasource.url", postgres.jdbcUrl());
        common.put("spring.datasource.username", EmbeddedDatabase.USER);
        common.put("spring.datasource.password", postgres.password());
        common.put("spring.datasource.hikari.maximum-pool-size", "5");
        common.put("spring.main.banner-mode", "off");
        common.put("spring.main.log-startup-info", "false");
        common.put("logging.level.root", "WARN");
        common.put("logging.level.org.springdoc", "ERROR");
        common.put("logging.level.dev.amalgam", "INFO");
        common.put("amalgam.data-dir", dataDir.toString());
        common.put("amalgam.import-root", importRoot.toString());
        String configuredKey = System.getenv("AMALGAM_CREDENTIALS_MASTER_KEY");
        if (configuredKey == null || configuredKey.isBlank()) {
            // generated once (owner-only) and read by every application of this process
            Path keyFile = dataDir.resolve(CREDENTIALS_KEY_FILE);
            dev.amalgam.platform.credential.MasterKey.readOrCreate(keyFile);
            common.put("amalgam.credentials.master-key-file", keyFile.toString());
        }

        Map<String, Object> service = new LinkedHashMap<>(common);
        service.put("server.port", "0");
        service.put("server.address", "127.0.0.1");
        service.put("amalgam.role", "both");
        service.putAll(serviceProperties);
        int mergePort = run(MergeServiceApplication.application(), service);
        int pruningPort = run(PruningServiceApplication.application(), service);
        int fusionPort = run(FusionServiceApplication.application(), service);

        Map<String, Object> gateway = new LinkedHashMap<>(common);
        gateway.put("server.port", Integer.toString(port));
        gateway.put("amalgam.role", "api");
        gateway.put("amalgam.services.merge-url", "http://127.0.0.1:" + mergePort);
        gateway.put("amalgam.services.pruning-url", "http://127.0.0.1:" + pruningPort);
        gateway.put("amalgam.services.fusion-url", "http://127.0.0.1:" + fusionPort);
        gatewayPort = run(GatewayApplication.application(), gateway);
    }

    /** Starts one application with {@code properties} on top of its own configuration file; returns its port. */
    private int run(SpringApplication app, Map<String, Object> properties) {
        // as command-line arguments, so they win over the application's configuration file
        String[] args = properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        // close() stops the applications, in reverse order and before PostgreSQL: hooks of their own would race it
        app.setRegisterShutdownHook(false);
        ConfigurableApplicationContext context = app.run(args);
        contexts.add(context);
        return ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    /**
     * This platform's database serves no other process, so a job still RUNNING at start was running in an
     * earlier run of it that died (killed, out of memory): its lease is expired now, so a worker resumes it
     * from its checkpoint at once instead of after the lease's full length.
     */
    private void releaseJobsOfTheLastRun() throws SQLException {
        try (Connection c = postgres.dataSource().getConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("select to_regclass('public.jobs') is not null")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return;
                }
            }
            s.executeUpdate("update jobs set lease_expires_at = now() where status = 'RUNNING' and lease_expires_at > now()");
        }
    }

    @Override
    public void close() {
        List<ConfigurableApplicationContext> reversed = new ArrayList<>(contexts);
        Collections.reverse(reversed);
        for (ConfigurableApplicationContext c : reversed) {
            try {
                c.close();
            } catch (RuntimeException e) {
                System.err.println("amalgam: error while stopping: " + e);
            }
        }
        contexts.clear();
        postgres.close();
    }
}
