package dev.amalgam.fusionservice;

import static dev.amalgam.platform.testing.TestApps.ADMIN_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.fusion.fusechat.repr.ModelRepresentations;
import dev.amalgam.fusion.fusechat.repr.RepresentationSettings;
import dev.amalgam.job.Progress;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.ApiKeyService;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobEvent;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.testing.TestApps;
import dev.amalgam.platform.testing.TestDatabase;
import dev.amalgam.platform.testing.TestHttp;
import dev.amalgam.platform.testing.TestJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/** POST /api/v1/fusions with method fusechat: a short FuseChat stage-1 job on the service, and its validation. */
class FuseChatFusionServiceTest {

    @TempDir
    static Path dataDir;

    static ConfigurableApplicationContext service;
    static TestHttp api;
    static Artifact pivot;

    @BeforeAll
    static void start() throws Exception {
        service = TestApps.start(FusionServiceApplication.application(), TestDatabase.newDatabase(), dataDir, Map.of());
        api = new TestHttp(TestApps.baseUrl(service));
        Path root = dataDir.resolve("import");
        TinySizes sizes = new TinySizes(32, 64, 2, 4, 2, 256, DType.F32);
        Path pivotDir = TinyModels.write(Architecture.LLAMA, root.resolve("pivot"), sizes, 11);
        Path sourceDir = TinyModels.write(Architecture.LLAMA, root.resolve("source"), sizes, 12);
        StringBuilder corpus = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            corpus.append("{\"id\": \"c").append(i).append("\", \"conversations\": [{\"from\": \"human\", \"value\": ")
                    .append("\"count to ").append(i).append("\"}, {\"from\": \"gpt\", \"value\": \"1 2 ").append(i)
                    .append("\"}]}\n");
        }
        Files.writeString(root.resolve("chat.jsonl"), corpus);
        RepresentationSettings s = new RepresentationSettings(4, 64, 4);
        ModelRepresentations.run(pivotDir, pivotDir, root.resolve("chat.jsonl"), root.resolve("pivot-repr"), s,
                EngineOptions.cpu(), Progress.NONE);
        ModelRepresentations.run(sourceDir, pivotDir, root.resolve("chat.jsonl"), root.resolve("source-repr"), s,
                EngineOptions.cpu(), Progress.NONE);
        ArtifactService artifacts = service.getBean(ArtifactService.class);
        UUID tenant = service.getBean(ApiKeyService.class).authenticate(ADMIN_KEY).orElseThrow().tenantId();
        pivot = artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "pivot", "pivot");
        artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "source", "source");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "pivot-repr", "pivot-repr");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "source-repr", "source-repr");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "chat", "chat.jsonl");
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    static final String INPUTS = "\"method\": \"fusechat\", \"target\": \"pivot\", \"source\": \"source\", "
            + "\"pivotRepresentations\": \"pivot-repr\", \"sourceRepresentations\": \"source-repr\"";

    @Test
    void aFuseChatJobTrainsThePivotAndReportsEveryStep() throws Exception {
        var r = api.call("POST", "/api/v1/fusions", ADMIN_KEY, "{" + INPUTS + ", \"name\": \"fused-chat\","
                + " \"epochs\": 2, \"lr\": 0.001, \"batchSize\": 2, \"gradAccum\": 2, \"maxLength\": 64,"
                + " \"device\": \"cpu\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        UUID id = UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString());
        Job job = awaitFinal(id);
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(job.result().get("stepsByStage").get("fusechat").asLong()).as("8 samples, 4 a step, 2 epochs")
                .isEqualTo(4);
        assertThat(job.result().get("finalMetrics").has("fusechat/fuse/distill_loss")).isTrue();
        List<JobEvent> events = service.getBean(JobService.class).events(pivot.tenantId(), id, 0, 1000);
        assertThat(events).filteredOn(e -> e.kind() == JobEvent.Kind.METRIC).hasSize(4)
                .allSatisfy(e -> assertThat(List.of("fuse/loss", "fuse/clm_loss", "fuse/distill_loss", "learning_rate"))
                        .allMatch(k -> e.payload().has(k)));
        Artifact model = service.getBean(ArtifactService.class).get(pivot.tenantId(),
                UUID.fromString(job.result().get("model").asString()));
        try (HfModelDir trained = HfModelDir.open(model.dir()); HfModelDir original = HfModelDir.open(pivot.dir())) {
            String name = "model.layers.0.mlp.down_proj.weight";
            assertThat(trained.tensor(name).toFloatArray()).as("training changed the weights")
                    .isNotEqualTo(original.tensor(name).toFloatArray());
        }
    }

    @Test
    void everyProblemOfAFuseChatSpecIsListedIn422() throws Exception {
        String errors = TestHttp.assertProblem(api.call("POST", "/api/v1/fusions", ADMIN_KEY, """
                {"method": "fusechat", "target": "pivot", "source": "missing", "pivotRepresentations": "chat",
                 "sourceRepresentations": "pivot", "data": "chat", "name": "refused", "lr": -1, "lambda": 2,
                 "fusionFunction": "max_ce", "beta": 0.1, "device": "cpu"}"""), 422, "validation-error")
                .get("errors").toString();
        assertThat(errors).contains("source: no artifact 'missing'")
                .contains("pivotRepresentations: ").contains("is not a representation dataset")
                .contains("sourceRepresentations: artifact 'pivot' is a MODEL, expected a DATASET")
                .contains("data: not used with method fusechat")
                .contains("lr: must be a finite number > 0").contains("lambda: must be in [0, 1]")
                .contains("fusionFunction").contains("beta: unknown field");
        assertThat(TestHttp.assertProblem(api.call("POST", "/api/v1/fusions", ADMIN_KEY, "{" + INPUTS
                + ", \"name\": \"refused\", \"device\": \"cpu\"}"), 422, "validation-error").get("errors").toString())
                .as("the authors' 2048 tokens do not fit the tiny pivot")
                .contains("maxLength 2048 exceeds the target's max_position_embeddings 256");
        assertThat(TestHttp.assertProblem(api.call("POST", "/api/v1/fusions", ADMIN_KEY, """
                {"method": "dpo", "target": "pivot", "data": "chat", "name": "refused"}"""), 422, "validation-error")
                .get("errors").toString()).contains("method: must be one of wrpo, fusechat");
        assertThat(TestHttp.assertProblem(api.call("POST", "/api/v1/fusions", ADMIN_KEY, """
                {"target": "pivot", "data": "chat", "source": "source", "name": "refused", "maxLength": 64}"""), 422,
                "validation-error").get("errors").toString()).as("WRPO is the default method")
                .contains("source: only used with method fusechat");
    }

    static Job awaitFinal(UUID id) throws InterruptedException {
        return TestJobs.awaitFinal(service, pivot.tenantId(), id, Duration.ofSeconds(300));
    }
}
