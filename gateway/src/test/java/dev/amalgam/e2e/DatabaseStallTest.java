package dev.amalgam.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.gateway.GatewayApplication;
import dev.amalgam.platform.testing.TestApps;
import dev.amalgam.platform.testing.TestDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A PostgreSQL that stops answering (every server process frozen with SIGSTOP, as in a storage stall)
 * turns into prompt 503 answers and a DOWN health check, not hung requests, and the service recovers by
 * itself when the database answers again.
 */
class DatabaseStallTest {

    @TempDir
    Path dir;

    @Test
    void aStalledDatabaseAnswers503AndHealthDownWithinSecondsAndTheServiceRecovers() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(dir.resolve("pg"))
                .setRegisterShutdownHook(false).start()) {
            TestDatabase.Db db = new TestDatabase.Db(pg.getJdbcUrl("postgres", "postgres"), "postgres", "postgres");
            ConfigurableApplicationContext gateway = TestApps.start(GatewayApplication.application(), db, dir,
                    Map.of("amalgam.gateway.requests-per-minute", "0"));
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            String base = TestApps.baseUrl(gateway);
            try {
                assertThat(get(http, base + "/actuator/health", null).statusCode()).isEqualTo(200);
                assertThat(get(http, base + "/api/v1/jobs", TestApps.ADMIN_KEY).statusCode()).isEqualTo(200);

                List<ProcessHandle> server = serverProcesses(dir.resolve("pg"));
                server.forEach(p -> signal(p, "STOP"));
                try {
                    long start = System.nanoTime();
                    HttpResponse<String> jobs = get(http, base + "/api/v1/jobs", TestApps.ADMIN_KEY);
                    assertThat(jobs.statusCode()).as(jobs.body()).isEqualTo(503);
                    assertThat(jobs.headers().firstValue("Content-Type")).hasValueSatisfying(
                            ct -> assertThat(ct).startsWith("application/problem+json"));
                    assertThat(jobs.headers().firstValue("Retry-After")).isPresent();
                    HttpResponse<String> health = get(http, base + "/actuator/health", null);
                    assertThat(health.statusCode()).as(health.body()).isEqualTo(503);
                    assertThat(health.body()).contains("DOWN");
                    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("answered, not hung")
                            .isLessThan(Duration.ofSeconds(60));
                } finally {
                    server.forEach(p -> signal(p, "CONT"));
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                int status = 0;
                while (System.nanoTime() < deadline && status != 200) {
                    Thread.sleep(500);
                    status = get(http, base + "/api/v1/jobs", TestApps.ADMIN_KEY).statusCode();
                }
                assertThat(status).as("recovered without a restart").isEqualTo(200);
                assertThat(get(http, base + "/actuator/health", null).statusCode()).isEqualTo(200);
            } finally {
                gateway.close();
            }
        }
    }

    /** The postmaster named in the data directory's pid file, and every process it started. */
    private static List<ProcessHandle> serverProcesses(Path pgData) throws java.io.IOException {
        long pid = Long.parseLong(java.nio.file.Files.readAllLines(pgData.resolve("postmaster.pid")).get(0).trim());
        ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
        List<ProcessHandle> all = new ArrayList<>();
        all.add(postmaster);
        postmaster.descendants().forEach(all::add);
        return all;
    }

    private static void signal(ProcessHandle p, String signal) {
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start().waitFor();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static HttpResponse<String> get(HttpClient http, String url, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(90));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
