package dev.amalgam.platform.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * A real PostgreSQL for tests, one server per JVM and a fresh database per caller:
 * TEST_JDBC_URL (with TEST_JDBC_USER / TEST_JDBC_PASSWORD) when set, else Testcontainers when a Docker
 * engine answers, else embedded PostgreSQL binaries (no Docker needed).
 */
public final class TestDatabase {

    /** Connection details of one database. */
    public record Db(String url, String user, String password) {
        public DataSource dataSource() {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setUrl(url);
            ds.setUser(user);
            ds.setPassword(password);
            return ds;
        }
    }

    private static Db server;

    private TestDatabase() {
    }

    /** Creates an empty database on the shared test server. */
    public static synchronized Db newDatabase() {
        Db admin = server();
        String name = "t_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = DriverManager.getConnection(admin.url(), admin.user(), admin.password());
             Statement s = c.createStatement()) {
            s.execute("create database " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("Could not create a test database", e);
        }
        int slash = admin.url().lastIndexOf('/');
        int query = admin.url().indexOf('?', slash);
        String url = admin.url().substring(0, slash + 1) + name + (query < 0 ? "" : admin.url().substring(query));
        return new Db(url, admin.user(), admin.password());
    }

    private static Db server() {
        if (server != null) {
            return server;
        }
        String url = System.getenv("TEST_JDBC_URL");
        if (url != null && !url.isBlank()) {
            server = new Db(url, envOr("TEST_JDBC_USER", "postgres"), envOr("TEST_JDBC_PASSWORD", "postgres"));
        } else if (dockerAvailable()) {
            PostgreSQLContainer container = new PostgreSQLContainer("postgres:16-alpine");
            container.start();
            server = new Db(container.getJdbcUrl(), container.getUsername(), container.getPassword());
        } else {
            try {
                EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        pg.close();
                    } catch (IOException ignored) {
                        // the JVM is exiting
                    }
                }));
                server = new Db(pg.getJdbcUrl("postgres", "postgres"), "postgres", "postgres");
            } catch (IOException e) {
                throw new UncheckedIOException("Could not start embedded PostgreSQL", e);
            }
        }
        return server;
    }

    private static boolean dockerAvailable() {
        boolean configured = System.getenv("DOCKER_HOST") != null || java.nio.file.Files.exists(java.nio.file.Path.of("/var/run/docker.sock"));
        if (!configured) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable e) {
            return false;
        }
    }

    private static String envOr(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
