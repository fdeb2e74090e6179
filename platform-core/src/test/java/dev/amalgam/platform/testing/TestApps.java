package dev.amalgam.platform.testing;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** Starts Amalgam applications for tests on a test database, with a known admin key. */
public final class TestApps {

    /** The bootstrap admin key of every test application. */
    public static final String ADMIN_KEY = "amk_test_admin_key_0123456789";

    private TestApps() {
    }

    /**
     * Runs {@code app} on a random port against {@code db}, with its data directory at {@link #dataDir}
     * and its import root at {@code dir/import} (the two must not overlap), fast
     * worker polling and {@code extra} settings. Settings are passed as command-line arguments so they win
     * over the application's own configuration file.
     */
    public static ConfigurableApplicationContext start(SpringApplication app, TestDatabase.Db db, Path dir,
                                                       Map<String, Object> extra) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("spring.datasource.url", db.url());
        p.put("spring.datasource.username", db.user());
        p.put("spring.datasource.password", db.password());
        p.put("spring.main.banner-mode", "off");
        p.put("server.port", "0");
        p.put("amalgam.data-dir", dataDir(dir).toString());
        p.put("amalgam.import-root", dir.resolve("import").toString());
        p.put("amalgam.auth.bootstrap", "true");
        p.put("amalgam.auth.bootstrap-key", ADMIN_KEY);
        p.put("amalgam.worker.poll-interval", "200ms");
        p.put("amalgam.worker.heartbeat", "200ms");
        p.putAll(extra);
        return app.run(p.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
    }

    /** The data directory of applications started on {@code dir}: beside, not above, their import root. */
    public static Path dataDir(Path dir) {
        return dir.resolve("data");
    }

    public static String baseUrl(ConfigurableApplicationContext context) {
        return "http://localhost:" + ((WebServerApplicationContext) context).getWebServer().getPort();
    }
}
