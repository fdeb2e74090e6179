package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The database of `amalgam up`: durable, password-protected, and restartable after the platform was killed. */
class EmbeddedDatabaseTest {

    @TempDir
    Path data;

    @Test
    void commitsAreDurableAndEveryConnectionNeedsThePassword() throws Exception {
        try (EmbeddedDatabase db = EmbeddedDatabase.start(data)) {
            try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
                assertThat(setting(s, "fsync")).isEqualTo("on");
                assertThat(setting(s, "synchronous_commit")).isEqualTo("on");
                assertThat(setting(s, "full_page_writes")).isEqualTo("on");
                assertThat(setting(s, "password_encryption")).isEqualTo("scram-sha-256");
            }
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("postgres-password"))))
                    .isEqualTo("rw-------");
            String url = "jdbc:postgresql://localhost:" + db.port() + "/amalgam";
            assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", "").close())
                    .isInstanceOf(SQLException.class);
            assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", "postgres").close())
                    .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
            try (Connection c = DriverManager.getConnection(url, "postgres", db.password())) {
                assertThat(c.isValid(5)).isTrue();
            }
        }
    }

    @Test
    void aClusterMadeWithTrustAuthenticationIsPasswordProtectedOnTheNextStart() throws Exception {
        // what earlier versions left: a cluster with the library's defaults (trust for every local connection)
        try (EmbeddedPostgres old = EmbeddedPostgres.builder().setDataDirectory(data.resolve("postgres"))
                .setCleanDataDirectory(false).setRegisterShutdownHook(false).start()) {
            assertThat(Files.readString(data.resolve("postgres/pg_hba.conf"))).contains("trust");
        }
        try (EmbeddedDatabase db = EmbeddedDatabase.start(data)) {
            assertThat(Files.readString(data.resolve("postgres/pg_hba.conf"))).isEqualTo(EmbeddedDatabase.HBA);
            String url = "jdbc:postgresql://localhost:" + db.port() + "/postgres";
            assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", "wrong").close())
                    .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
            try (Connection c = DriverManager.getConnection(url, "postgres", db.password())) {
                assertThat(c.isValid(5)).isTrue();
            }
        }
    }

    @Test
    void aServerLeftRunningByAKilledPlatformIsStoppedAndItsCommittedDataKept() throws Exception {
        Process platform = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), DatabaseHolder.class.getName(), data.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        long postmasterPid = -1;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(platform.getInputStream(), StandardCharsets.UTF_8));
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith("ready ")) {
                    postmasterPid = Long.parseLong(line.substring("ready ".length()).trim());
                    break;
                }
            }
        } finally {
            platform.destroyForcibly(); // SIGKILL, as the OOM killer would
            assertThat(platform.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(postmasterPid).as("the child reported its server").isPositive();
        ProcessHandle orphan = ProcessHandle.of(postmasterPid).orElseThrow();
        assertThat(orphan.isAlive()).as("PostgreSQL outlives the killed JVM").isTrue();

        try (EmbeddedDatabase db = EmbeddedDatabase.start(data)) {
            assertThat(orphan.isAlive()).as("the orphan was stopped").isFalse();
            try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select note from survivors")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("committed before the kill");
            }
        }
        assertThat(EmbeddedDatabase.postmaster(data.resolve("postgres"))).as("a clean stop leaves no server").isEmpty();
    }

    @Test
    void aSecondPlatformOnADataDirectoryInUseIsRefusedClearly() throws Exception {
        try (EmbeddedDatabase db = EmbeddedDatabase.start(data)) {
            // the lock is per process: a second process is refused; in this JVM the same check is made by the lock file
            Process second = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), DatabaseHolder.class.getName(), data.toString())
                    .redirectErrorStream(true).start();
            String output = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(second.exitValue()).isNotZero();
            assertThat(output).contains("is in use by another running Amalgam");
            try (Connection c = db.dataSource().getConnection()) {
                assertThat(c.isValid(5)).as("the running server was left alone").isTrue();
            }
        }
    }

    private static String setting(Statement s, String name) throws SQLException {
        try (ResultSet rs = s.executeQuery("show " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** A stand-in for a platform process: starts the database, commits a row, reports the server and waits. */
    public static final class DatabaseHolder {
        public static void main(String[] args) throws Exception {
            EmbeddedDatabase db;
            try {
                db = EmbeddedDatabase.start(Path.of(args[0]));
            } catch (IllegalArgumentException e) {
                System.out.println(e.getMessage());
                System.exit(2);
                return;
            }
            try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("create table survivors (note text)");
                s.execute("insert into survivors values ('committed before the kill')");
            }
            long pid = EmbeddedDatabase.postmaster(Path.of(args[0]).resolve("postgres")).orElseThrow().pid();
            System.out.println("ready " + pid);
            System.out.flush();
            Thread.sleep(List.of(600_000L).get(0));
        }
    }
}
