package dev.amalgam.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
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
            defaultValue = "./amalgam-import",
            description = "Directory from which models and datasets may be imported; created if missing, and it must not "
                    + "contain the data directory (default: ${DEFAULT-VALUE}).")
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
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be between 0 and 65535");
        }
        Path data = dataDir.toAbsolutePath().normalize();
        Path imports = importRoot.toAbsolutePath().normalize();
        LocalPlatform platform = LocalPlatform.start(port, data, imports);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("Stopping Amalgam...");
            platform.close();
        }, "amalgam-shutdown"));
        running = true;

        String url = "http://localhost:" + platform.port();
        System.out.println();
        System.out.println("  Amalgam is up at " + url);
        System.out.println("    Dashboard    " + url + "/");
        System.out.println("    API          " + url + "/api/v1  (Authorization: Bearer <key>)");
        System.out.println("    API key      " + (System.getenv("AMALGAM_API_KEY") != null ? "$AMALGAM_API_KEY" : data.resolve("api-key")));
        System.out.println("    OpenAPI      " + url + "/swagger-ui.html");
        System.out.println("    Data         " + data);
        System.out.println("    Import root  " + imports);
        System.out.println("  Press Ctrl-C to stop.");
        System.out.println();
        return 0;
    }
}
