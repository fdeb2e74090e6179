package dev.amalgam.cli;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The PostgreSQL server of {@code amalgam up}: real PostgreSQL binaries run as a child process, with
 * their data under {@code <data-dir>/postgres}. Unlike a test database it is durable (fsync and
 * synchronous commit on: a job answered 202 survives a crash of the machine) and every connection needs
 * the password kept in {@code <data-dir>/postgres-password} (mode 0600). A server left running by a
 * platform that was killed is stopped before a new one starts on the same data.
 */
final class EmbeddedDatabase implements AutoCloseable {

    /** The role the platform connects as. */
    static final String USER = "postgres";
    static final String DATABASE = "amalgam";

    /** Our pg_hba.conf: password (SCRAM) for every connection, local socket and loopback alike. */
    static final String HBA = """
            # Written by amalgam up: every connection needs the password in ../postgres-password.
            local   all          all                    scram-sha-256
            host    all          all   127.0.0.1/32     scram-sha-256
            host    all          all   ::1/128          scram-sha-256
            local   replication  all                    scram-sha-256
            host    replication  all   127.0.0.1/32     scram-sha-256
            host    replication  all   ::1/128          scram-sha-256
            """;

    private final EmbeddedPostgres postgres;
    private final String password;

    private EmbeddedDatabase(EmbeddedPostgres postgres, String password) {
        this.postgres = postgres;
        this.password = password;
    }

    /** Starts (initialising on first use) the server of a data directory and makes sure the amalgam database exists. */
    static EmbeddedDatabase start(Path dataDir) throws IOException {
        Path pgData = dataDir.resolve("postgres");
        String password = password(dataDir.resolve("postgres-password"));
        EmbeddedPostgres postgres;
        try {
            postgres = EmbeddedPostgres.builder()
                    .setDataDirectory(pgData)
                    .setCleanDataDirectory(false)
                    // the platform stops PostgreSQL after its applications: a hook of its own would race them at exit
                    .setRegisterShutdownHook(false)
                    // the library starts the server with -F (fsync off) and synchronous_commit off, as suits tests
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("full_page_writes", "on")
                    .setServerConfig("listen_addresses", "localhost")
                    // a new cluster is password-protected from initdb on: no window in which trust applies
                    .setLocaleConfig("auth", "scram-sha-256")
                    .setLocaleConfig("pwfile", dataDir.resolve("postgres-password").toString())
                    .setConnectConfig("password", password)
                    // runs once the data directory is locked for this process: any server still on it is an orphan
                    .setDataDirectoryCustomizer(EmbeddedDatabase::stopOrphanedServer)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .start();
        } catch (IllegalStateException e) {
            if (String.valueOf(e.getMessage()).startsWith("could not lock")) {
                throw new IllegalArgumentException("the data directory " + dataDir
                        + " is in use by another running Amalgam; stop it or choose another --data-dir");
            }
            throw e;
        }
        EmbeddedDatabase db = new EmbeddedDatabase(postgres, password);
        try {
            db.requirePassword(pgData);
            db.createDatabaseIfMissing();
            return db;
        } catch (SQLException | RuntimeException e) {
            db.close();
            throw new IllegalStateException("PostgreSQL could not be prepared: " + e.getMessage(), e);
        } catch (IOException e) {
            db.close();
            throw e;
        }
    }

    String jdbcUrl() {
        return postgres.getJdbcUrl(USER, DATABASE);
    }

    String password() {
        return password;
    }

    int port() {
        return postgres.getPort();
    }

    /** A connection pool-less data source on the amalgam database, with the password. */
    DataSource dataSource() {
        return postgres.getDatabase(USER, DATABASE);
    }

    /**
     * A cluster made before the server was password-protected still trusts local connections: set the
     * password and replace its pg_hba.conf. Idempotent, and a no-op on a cluster initialised with a password.
     */
    private void requirePassword(Path pgData) throws SQLException, IOException {
        Path hba = pgData.resolve("pg_hba.conf");
        if (Files.readString(hba).equals(HBA)) {
            return;
        }
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            // the password is hex: nothing in it needs quoting
            s.execute("alter role " + USER + " password '" + password + "'");
            Files.writeString(hba, HBA);
            try (ResultSet rs = s.executeQuery("select pg_reload_conf()")) {
                rs.next();
            }
        }
    }

    private void createDatabaseIfMissing() throws SQLException {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("select 1 from pg_database where datname = '" + DATABASE + "'")) {
                if (rs.next()) {
                    return;
                }
            }
            s.execute("create database " + DATABASE);
        }
    }

    /** The database password of a data directory: generated on first use, kept in a 0600 file. */
    static String password(Path file) {
        try {
            if (Files.exists(file)) {
                String existing = Files.readString(file).trim();
                if (!existing.isEmpty()) {
                    return existing;
                }
            }
            byte[] bytes = new byte[24];
            new SecureRandom().nextBytes(bytes);
            String generated = HexFormat.of().formatHex(bytes);
            Files.createDirectories(file.getParent());
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            // initdb reads the first line of the file as the superuser's password
            Files.writeString(file, generated + "\n");
            return generated;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read or create the database password file " + file, e);
        }
    }

    /**
     * Stops a postmaster that still runs on this data directory. The caller holds the directory's lock, so
     * the platform that started it is gone (killed, or out of memory): the server has its own session and
     * outlives it, and a new server cannot start beside it.
     */
    static void stopOrphanedServer(File pgData) {
        Optional<ProcessHandle> orphan = postmaster(pgData.toPath());
        if (orphan.isEmpty()) {
            return;
        }
        ProcessHandle server = orphan.get();
        System.err.println("amalgam: stopping the PostgreSQL server (pid " + server.pid()
                + ") left running on this data directory by an earlier run");
        // SIGTERM is a smart shutdown: it waits for sessions, and the dead platform's sessions are gone
        server.destroy();
        try {
            server.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            server.destroyForcibly();
            throw new IllegalStateException("the PostgreSQL server (pid " + server.pid() + ") left on " + pgData
                    + " did not stop within 60 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping an orphaned PostgreSQL server", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The live postmaster named by a data directory's postmaster.pid, if it is a postgres process. */
    static Optional<ProcessHandle> postmaster(Path pgData) {
        Path pidFile = pgData.resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        try {
            String first = Files.readAllLines(pidFile).stream().findFirst().orElse("").trim();
            long pid = Long.parseLong(first);
            // a stale pid file may name a pid the system has since given to another program
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                    .filter(p -> p.info().command().map(cmd -> Path.of(cmd).getFileName().toString().equals("postgres")).orElse(false));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            System.err.println("amalgam: error while stopping PostgreSQL: " + e);
        }
    }
}
