package dev.amalgam.platform.jobtype.wordcount;

import static dev.amalgam.platform.testing.TestApps.ADMIN_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.job.Progress;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.ApiKeyService;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.jobtype.InvalidJobSpecException;
import dev.amalgam.platform.jobtype.LocalJobs;
import dev.amalgam.platform.testing.TestApps;
import dev.amalgam.platform.testing.TestDatabase;
import dev.amalgam.platform.testing.TestHttp;
import dev.amalgam.platform.testing.TestJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * A job type written only as its package (spec record and type, one {@code @Component}) gets the endpoint, the
 * validation answers, idempotency, the worker, lineage and the CLI's local run, with nothing registered elsewhere.
 */
class NewJobTypeTest {

    @TempDir
    static Path dir;

    static ConfigurableApplicationContext service;
    static TestHttp api;
    static UUID tenant;
    static Artifact dataset;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("import"));
        Files.writeString(dir.resolve("import/texts.jsonl"), "{\"text\": \"a bb ccc\"}\n{\"text\": \"dddd e\"}\n");
        service = TestApps.start(new SpringApplication(WordCountApplication.class), TestDatabase.newDatabase(), dir, Map.of());
        api = new TestHttp(TestApps.baseUrl(service));
        tenant = service.getBean(ApiKeyService.class).authenticate(ADMIN_KEY).orElseThrow().tenantId();
        dataset = service.getBean(ArtifactService.class).importFromRoot(tenant, ArtifactKind.DATASET, "texts", "texts.jsonl");
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void everyProblemOfTheSpecAndOfTheJobOptionsIsAnsweredAt422() throws Exception {
        JsonNode problem = TestHttp.assertProblem(api.call("POST", "/api/v1/word-counts", ADMIN_KEY,
                "{\"dataset\": \"nope\", \"minLength\": 1.5, \"maxAttempts\": 0, \"colour\": \"red\"}"), 422, "validation-error");
        assertThat(problem.get("errors").toString())
                .contains("name: the name of the REPORT is required")
                .contains("minLength: must be an integer between 1 and 100, got 1.5")
                .contains("maxAttempts: must be an integer between 1 and 10, got 0")
                .contains("colour: unknown field")
                .contains("dataset: no artifact 'nope'");
    }

    @Test
    void aJobRunsOnTheWorkerAndPublishesItsOutputWithLineage() throws Exception {
        var r = api.call("POST", "/api/v1/word-counts", ADMIN_KEY, "{\"dataset\": \"texts\", \"name\": \"count\", \"minLength\": 2}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        UUID id = UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString());
        Job job = awaitFinal(id);
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(job.maxAttempts()).as("the one default of every job type").isEqualTo(3);
        assertThat(job.result().get("words").asLong()).as("bb, ccc, dddd").isEqualTo(3);
        assertThat(job.spec().get("artifacts").get("texts").asString()).isEqualTo(dataset.id().toString());
        Artifact report = service.getBean(ArtifactRepository.class).findReadyByName(tenant, "count").orElseThrow();
        assertThat(report.producingJobId()).isEqualTo(id);
        assertThat(Files.readString(report.dir().resolve("count.json"))).contains("3");
        assertThat(service.getBean(ArtifactRepository.class).lineageOfJob(id).toString()).contains(dataset.id().toString());
    }

    @Test
    void theCliRunsTheSameTypeOnLocalFilesWithTheSameResult() throws Exception {
        Path texts = dir.resolve("import/texts.jsonl");
        Path out = dir.resolve("local-out");
        JsonNode spec = Json.MAPPER.readTree("{\"dataset\": \"" + texts + "\", \"name\": \"count\", \"minLength\": 2}");
        JsonNode result = LocalJobs.run(new WordCountJobType(), spec, Path.of(""), out, dir.resolve("local-work"), Progress.NONE);
        assertThat(result.get("words").asLong()).isEqualTo(3);
        assertThat(result.get("report").asString()).isEqualTo(out.toAbsolutePath().toString());
        assertThat(Files.readString(out.resolve("count.json"))).contains("3");
        assertThat(dir.resolve("local-work")).as("the work directory of a finished job is removed").doesNotExist();

        var bad = org.assertj.core.api.Assertions.catchThrowableOfType(InvalidJobSpecException.class,
                () -> LocalJobs.run(new WordCountJobType(), Json.MAPPER.readTree("{\"dataset\": \"missing.jsonl\", \"name\": \"x\"}"),
                        dir, dir.resolve("never"), dir.resolve("never.work"), Progress.NONE));
        assertThat(bad.problems()).singleElement().asString().contains("missing.jsonl is not a file");
    }

    @Test
    void aLocalRunStoppedMidwayResumesFromItsCheckpoint() throws Exception {
        Path texts = dir.resolve("import/texts.jsonl");
        JsonNode spec = Json.MAPPER.readTree("{\"dataset\": \"" + texts + "\", \"name\": \"count\"}");
        Path work = dir.resolve("resume-work");
        Progress stopAfterFirstLine = new Progress() {
            int reports;

            @Override
            public void progress(double fraction, String message) {
                reports++;
            }

            @Override
            public boolean isCancelled() {
                return reports >= 1;
            }
        };
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LocalJobs.run(new WordCountJobType(), spec, Path.of(""),
                dir.resolve("resume-out"), work, stopAfterFirstLine)).isInstanceOf(dev.amalgam.job.CancelledException.class);
        assertThat(dir.resolve("resume-out")).as("nothing published").doesNotExist();
        JsonNode resumed = LocalJobs.run(new WordCountJobType(), spec, Path.of(""), dir.resolve("resume-out"), work, Progress.NONE);
        assertThat(resumed.get("resumedAt").asInt()).isEqualTo(1);
        assertThat(resumed.get("words").asLong()).isEqualTo(5);
    }

    static Job awaitFinal(UUID id) throws InterruptedException {
        return TestJobs.awaitFinal(service, tenant, id, Duration.ofSeconds(60));
    }
}
