package dev.amalgam.cli;

import dev.amalgam.fusionservice.FusionServiceApplication;
import dev.amalgam.gateway.GatewayApplication;
import dev.amalgam.mergeservice.MergeServiceApplication;
import dev.amalgam.pruningservice.PruningServiceApplication;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code amalgam up}: the whole platform in one JVM: embedded PostgreSQL (data kept under the data
 * directory), the three services with their workers on loopback ports, and the gateway on --port.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Start the whole platform in this process (embedded PostgreSQL, services, workers, gateway).")
class UpCommand implements Callable<Integer> {

    private static volatile boolean running;

    @Option(names = "--port", defaultValue = "8080", description = "Gateway port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--data-dir", defaultValue = "./amalgam-data",
            description = "Where the database, artifacts and the API key live (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--import-root",
            description = "Directory from which models and datasets may be registered in place (default: the current directory).")
    Path importRoot;

    static boolean isRunningPlatform() {
        return running;
    }

    /** Tells main() that servers run in this JVM, so it must return instead of exiting. */
    static void markRunning() {
        running = true;
    }

    @Override
    public Integer call() throws Exception {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("--port must be between 1 and 65535");
        }
        Path data = dataDir.toAbsolutePath().normalize();
        Files.createDirectories(data);
        Path imports = (importRoot == null ? Path.of(".") : importRoot).toAbsolutePath().normalize();

        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setDataDirectory(data.resolve("postgres"))
                .setCleanDataDirectory(false)
                .start();
        createDatabaseIfMissing(postgres);
        String jdbcUrl = postgres.getJdbcUrl("postgres", "amalgam");

        List<ConfigurableApplicationContext> contexts = Collections.synchronizedList(new ArrayList<>());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(contexts, postgres), "amalgam-shutdown"));

        Map<String, Object> common = new LinkedHashMap<>();
        common.put("spring.datasource.url", jdbcUrl);
        common.put("spring.datasource.username", "postgres");
        common.put("spring.datasource.password", "postgres");
        common.put("spring.datasource.hikari.maximum-pool-size", "5");
        common.put("spring.main.banner-mode", "off");
        common.put("spring.main.log-startup-info", "false");
        common.put("logging.level.org.springdoc", "ERROR");
        common.put("logging.level.root", "WARN");
        common.put("logging.level.dev.amalgam", "INFO");
        common.put("amalgam.data-dir", data.toString());
        common.put("amalgam.import-root", imports.toString());

        Map<String, Object> service = new LinkedHashMap<>(common);
        service.put("server.port", "0");
        service.put("server.address", "127.0.0.1");
        service.put("amalgam.role", "both");

        int mergePort = start(contexts, MergeServiceApplication.application(), service);
        int pruningPort = start(contexts, PruningServiceApplication.application(), service);
        int fusionPort = start(contexts, FusionServiceApplication.application(), service);

        Map<String, Object> gateway = new LinkedHashMap<>(common);
        gateway.put("server.port", Integer.toString(port));
        gateway.put("amalgam.role", "api");
        gateway.put("amalgam.services.merge-url", "http://127.0.0.1:" + mergePort);
        gateway.put("amalgam.services.pruning-url", "http://127.0.0.1:" + pruningPort);
        gateway.put("amalgam.services.fusion-url", "http://127.0.0.1:" + fusionPort);
        start(contexts, GatewayApplication.application(), gateway);

        running = true;
        String url = "http://localhost:" + port;
        Path keyFile = data.resolve("api-key");
        System.out.println();
        System.out.println("  Amalgam is up at " + url);
        System.out.println("    API          " + url + "/api/v1  (Authorization: Bearer <key>)");
        System.out.println("    API key      " + (System.getenv("AMALGAM_API_KEY") != null ? "$AMALGAM_API_KEY" : keyFile));
        System.out.println("    OpenAPI      " + url + "/swagger-ui.html");
        System.out.println("    Data         " + data);
        System.out.println("    Import root  " + imports);
        System.out.println("  Press Ctrl-C to stop.");
        System.out.println();
        return 0;
    }

    /** Starts one application with its own configuration file plus {@code properties}; returns its HTTP port. */
    private static int start(List<ConfigurableApplicationContext> contexts, SpringApplication app, Map<String, Object> properties) {
        // as command-line arguments, so they win over the application's own configuration file
        String[] args = properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        ConfigurableApplicationContext context = app.run(args);
        contexts.add(context);
        return ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    private static void createDatabaseIfMissing(EmbeddedPostgres postgres) throws Exception {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("select 1 from pg_database where datname = 'amalgam'")) {
                if (rs.next()) {
                    return;
                }
            }
            s.execute("create database amalgam");
        }
    }

    private static void stop(List<ConfigurableApplicationContext> contexts, EmbeddedPostgres postgres) {
        System.out.println("Stopping Amalgam...");
        List<ConfigurableApplicationContext> reversed = new ArrayList<>(contexts);
        Collections.reverse(reversed);
        for (ConfigurableApplicationContext c : reversed) {
            try {
                c.close();
            } catch (RuntimeException e) {
                System.err.println("amalgam: error while stopping: " + e);
            }
        }
        try {
            postgres.close();
        } catch (Exception e) {
            System.err.println("amalgam: error while stopping PostgreSQL: " + e);
        }
    }
}
