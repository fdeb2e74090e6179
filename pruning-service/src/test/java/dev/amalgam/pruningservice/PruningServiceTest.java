package dev.amalgam.pruningservice;

import static dev.amalgam.platform.testing.TestApps.ADMIN_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.eval.Perplexity;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.ApiKeyService;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.testing.TestApps;
import dev.amalgam.platform.testing.TestDatabase;
import dev.amalgam.platform.testing.TestHttp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/** The pruning service: perplexity evaluation jobs end to end, validation, and the 501 of what is not built. */
class PruningServiceTest {

    @TempDir
    static Path dataDir;

    static ConfigurableApplicationContext service;
    static TestHttp api;
    static Artifact model;
    static Artifact dataset;

    @BeforeAll
    static void start() throws Exception {
        service = TestApps.start(PruningServiceApplication.application(), TestDatabase.newDatabase(), dataDir, Map.of());
        api = new TestHttp(TestApps.baseUrl(service));
        TinyModels.write(Architecture.LLAMA, dataDir.resolve("import/m"), TinySizes.defaults(), 7);
        Files.writeString(dataDir.resolve("import/wiki.jsonl"),
                "{\"text\": \"The quick brown fox jumps over the lazy dog, again and again and again.\"}\n"
                        + "{\"text\": \"Perplexity measures how surprised a model is by the text it reads.\"}\n");
        ArtifactService artifacts = service.getBean(ArtifactService.class);
        UUID tenant = service.getBean(ApiKeyService.class).authenticate(ADMIN_KEY).orElseThrow().tenantId();
        model = artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "tiny", "m");
        dataset = artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "wiki", "wiki.jsonl");
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void evaluationJobReportsTheEnginesPerplexity() throws Exception {
        var r = api.call("POST", "/api/v1/evaluations", ADMIN_KEY, "{\"model\":\"tiny\",\"dataset\":\"wiki\",\"seqLen\":16}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        UUID id = UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString());
        Job job = awaitFinal(id);
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        double expected = Perplexity.evaluate(model.dir(), dataset.singleFile(), 16, EngineOptions.cpu()).perplexity();
        assertThat(job.result().get("perplexity").asDouble()).isEqualTo(expected);
        assertThat(job.result().get("tokens").asLong()).isPositive();
        // a random model over a 256-token byte vocabulary is roughly uniform: far above 1, finite
        assertThat(expected).isGreaterThan(10).isLessThan(10_000);
    }

    @Test
    void badEvaluationSpecsListEveryProblem() throws Exception {
        var r = api.call("POST", "/api/v1/evaluations", ADMIN_KEY, "{\"model\":\"wiki\",\"dataset\":\"nope\",\"seqLen\":1,\"x\":true}");
        String errors = TestHttp.assertProblem(r, 422, "validation-error").get("errors").toString();
        assertThat(errors).contains("seqLen").contains("x: unknown field").contains("is a DATASET, expected a MODEL").contains("'nope'");
    }

    @Test
    void pruningIsNotBuiltYetAndSaysSoWithoutCreatingAJob() throws Exception {
        TestHttp.assertProblem(api.call("POST", "/api/v1/prunings", ADMIN_KEY, "{}"), 501, "not-implemented");
    }

    static Job awaitFinal(UUID id) throws InterruptedException {
        JobService jobs = service.getBean(JobService.class);
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            Job job = jobs.get(model.tenantId(), id);
            if (job.status().isFinal()) {
                return job;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("job " + id + " did not finish");
    }
}
