package dev.amalgam.fusionservice;

import static dev.amalgam.platform.testing.TestApps.ADMIN_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
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
import dev.amalgam.platform.worker.WorkerRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** POST /api/v1/fusions end to end on the service: validation, a short SFT + WRPO job, the published model, resume. */
class FusionServiceTest {

    @TempDir
    static Path dataDir;

    static ConfigurableApplicationContext service;
    static TestHttp api;
    static Artifact target;

    @BeforeAll
    static void start() {
        service = TestApps.start(FusionServiceApplication.application(), TestDatabase.newDatabase(), dataDir, Map.of());
        api = new TestHttp(TestApps.baseUrl(service));
        TinyModels.write(Architecture.LLAMA, dataDir.resolve("import/target"), TinySizes.defaults(), 21);
        List<PreferenceRecord> records = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            records.add(PreferenceRecord.preference("count to " + i, "1 2 3 " + i, "1 2 " + i, "no"));
        }
        PreferenceJsonl.write(dataDir.resolve("import/prefs.jsonl"), records);
        // a hub snapshot's layout: the train split with the 8 records, the test split with 4 others
        try {
            Files.createDirectories(dataDir.resolve("import/hub/data"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        PreferenceJsonl.write(dataDir.resolve("import/hub/data/train-00000-of-00001.jsonl"), records);
        PreferenceJsonl.write(dataDir.resolve("import/hub/data/test-00000-of-00001.jsonl"), records.subList(0, 4));
        TinyModels.writeRewardModel(Architecture.LLAMA, dataDir.resolve("import/reward"), TinySizes.defaults(), 5);
        StringBuilder candidates = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            candidates.append("{\"prompt\": \"name a number near ").append(i).append("\", \"source_responses\": [")
                    .append("{\"text\": \"").append(i + 1).append("\", \"score\": 2.0}, {\"text\": \"many\", \"score\": -1.0}]}\n");
        }
        try {
            Files.writeString(dataDir.resolve("import/candidates.jsonl"), candidates);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ArtifactService artifacts = service.getBean(ArtifactService.class);
        UUID tenant = service.getBean(ApiKeyService.class).authenticate(ADMIN_KEY).orElseThrow().tenantId();
        target = artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "target", "target");
        artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "reward", "reward");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "candidates", "candidates.jsonl");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "prefs", "prefs.jsonl");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "hub", "hub");
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void sftThenWrpoJobPublishesTheTrainedTargetWithMetrics() throws Exception {
        var r = api.call("POST", "/api/v1/fusions", ADMIN_KEY, """
                {"target": "target", "data": "prefs", "name": "fused", "stages": ["sft", "wrpo"], "loss": "wrpo",
                 "epochs": 1, "lr": 0.001, "sftLr": 0.001, "beta": 0.1, "batchSize": 4, "gradAccum": 1,
                 "maxLength": 48, "maxPromptLength": 24, "device": "cpu"}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        UUID id = UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString());
        Job job = awaitFinal(id);
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(job.result().get("stepsByStage").get("wrpo").asLong()).isEqualTo(2);

        List<JobEvent> events = service.getBean(JobService.class).events(target.tenantId(), id, 0, 1000);
        assertThat(events).filteredOn(e -> e.kind() == JobEvent.Kind.METRIC && e.payload().path("stage").asString().equals("wrpo"))
                .isNotEmpty()
                .allSatisfy(e -> assertThat(e.payload().has("rewards/margins") && e.payload().has("alpha")).isTrue());

        Artifact model = service.getBean(ArtifactService.class).get(target.tenantId(), UUID.fromString(job.result().get("model").asString()));
        assertThat(model.metadata().get("dtype").asString()).isEqualTo("BF16");
        try (HfModelDir trained = HfModelDir.open(model.dir()); HfModelDir original = HfModelDir.open(target.dir())) {
            assertThat(trained.tensorNames()).isEqualTo(original.tensorNames());
            String name = "model.layers.0.mlp.down_proj.weight";
            assertThat(trained.tensor(name).toFloatArray()).as("training changed the weights").isNotEqualTo(original.tensor(name).toFloatArray());
        }
        assertThat(Files.exists(service.getBean(dev.amalgam.platform.artifact.ArtifactStore.class).workDir(id)))
                .as("the work directory goes with the job").isFalse();
    }

    @Test
    void fromCandidatesTheJobBuildsThePreferenceDataAsTheReferenceDoes() throws Exception {
        var r = api.call("POST", "/api/v1/fusions", ADMIN_KEY, """
                {"target": "target", "candidates": "candidates", "rewardModel": "reward", "name": "fused-pipeline",
                 "build": {"sftFraction": 0.34, "targetSamples": 2, "maxNewTokens": 6},
                 "stages": ["sft", "wrpo"], "epochs": 1, "lr": 0.001, "sftLr": 0.001, "batchSize": 2, "gradAccum": 1,
                 "maxLength": 48, "maxPromptLength": 24, "device": "cpu", "outputDtype": "fp32"}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        Artifact built = service.getBean(ArtifactService.class).get(target.tenantId(), UUID.fromString(job.result().get("preferences").asString()));
        assertThat(built.name()).isEqualTo("fused-pipeline-preferences");
        var records = PreferenceJsonl.readAll(built.singleFile());
        assertThat(records).as("two thirds of six prompts become preference records").hasSize(4);
        assertThat(records).allSatisfy(rec -> {
            assertThat(rec.chosen()).hasSize(2);
            assertThat(rec.rejected()).hasSize(1);
            assertThat(rec.chosen().get(0)).as("the best-scored source response").isNotEqualTo("many");
        });
        assertThat(service.getBean(JobService.class).events(target.tenantId(), job.id(), 0, 2000))
                .as("the SFT stage ran before WRPO")
                .anyMatch(e -> e.kind() == JobEvent.Kind.METRIC && e.payload().path("stage").asString().equals("sft"))
                .anyMatch(e -> e.kind() == JobEvent.Kind.METRIC && e.payload().path("stage").asString().equals("wrpo"));
    }

    @Test
    void aJobWhoseWorkerStopsMidRunResumesToTheWeightsOfAnUninterruptedJob() throws Exception {
        String spec = """
                {"target": "target", "data": "prefs", "name": "%s", "stages": ["sft", "wrpo"], "loss": "wrpo",
                 "epochs": 2, "sftEpochs": 2, "lr": 0.003, "sftLr": 0.003, "beta": 0.1, "batchSize": 1, "gradAccum": 2,
                 "maxLength": 48, "maxPromptLength": 24, "checkpointEvery": 1, "device": "cpu", "outputDtype": "fp32"}""";
        JobService jobs = service.getBean(JobService.class);
        WorkerRuntime worker = service.getBean(WorkerRuntime.class);
        Thread gcPressure = gcPressure(); // a worker JVM busy with other work collects at any point of a step
        try {
            Job steady = awaitFinal(submit(spec.formatted("steady")));
            assertThat(steady.status()).as(String.valueOf(steady.error())).isEqualTo(JobStatus.SUCCEEDED);

            UUID id = submit(spec.formatted("stopped"));
            long deadline = System.nanoTime() + 300_000_000_000L;
            while (jobs.events(target.tenantId(), id, 0, 2000).stream().noneMatch(e -> e.kind() == JobEvent.Kind.METRIC
                    && e.payload().path("stage").asString().equals("wrpo") && e.payload().path("step").asLong() >= 3)) {
                assertThat(System.nanoTime()).as("the job reaches WRPO step 3").isLessThan(deadline);
                Thread.sleep(20);
            }
            worker.stop(); // the job stops at its next step and is handed back to the queue
            assertThat(jobs.get(target.tenantId(), id).status()).isEqualTo(JobStatus.QUEUED);
            worker.start();
            Job stopped = awaitFinal(id);
            assertThat(stopped.status()).as(String.valueOf(stopped.error())).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(stopped.result().get("resumed").asBoolean()).isTrue();
            assertThat(modelBytes(stopped)).as("resumed model vs uninterrupted").isEqualTo(modelBytes(steady));
        } finally {
            gcPressure.interrupt();
            gcPressure.join();
        }
    }

    private static UUID submit(String body) throws Exception {
        var r = api.call("POST", "/api/v1/fusions", ADMIN_KEY, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString());
    }

    private static byte[] modelBytes(Job job) throws java.io.IOException {
        Artifact model = service.getBean(ArtifactService.class).get(target.tenantId(),
                UUID.fromString(job.result().get("model").asString()));
        return Files.readAllBytes(model.dir().resolve("model.safetensors"));
    }

    /** Runs the garbage collector every 20 ms until interrupted. */
    private static Thread gcPressure() {
        Thread t = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                System.gc();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "gc-pressure");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void badFusionSpecsListEveryProblem() throws Exception {
        var r = api.call("POST", "/api/v1/fusions", ADMIN_KEY, """
                {"target": "prefs", "data": "missing", "loss": "kto", "beta": -1, "colour": "red"}""");
        String errors = TestHttp.assertProblem(r, 422, "validation-error").get("errors").toString();
        assertThat(errors).contains("kto").contains("beta").contains("colour").contains("'missing'")
                .contains("is a DATASET, expected a MODEL").contains("name");
        TestHttp.assertProblem(api.call("POST", "/api/v1/fusions", null, "{}"), 401, "unauthorized");
        var both = api.call("POST", "/api/v1/fusions", ADMIN_KEY, """
                {"target": "target", "data": "prefs", "candidates": "candidates", "name": "z", "build": {"targetSamples": 1}}""");
        assertThat(TestHttp.assertProblem(both, 422, "validation-error").get("errors").toString())
                .contains("exactly one of 'data'").contains("targetSamples");
    }

    @Test
    void aDatasetDirectoryWithSplitsTrainsOnTheSplitAskedFor() throws Exception {
        var r = api.call("POST", "/api/v1/fusions", ADMIN_KEY, """
                {"target": "target", "data": "hub", "split": "test", "name": "fused-test-split", "stages": ["wrpo"],
                 "epochs": 1, "lr": 0.001, "beta": 0.1, "batchSize": 2, "gradAccum": 1, "maxLength": 48,
                 "maxPromptLength": 24, "device": "cpu"}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        // the test split's 4 records in batches of 2 (the train split's 8 would make 4 steps)
        assertThat(job.result().get("stepsByStage").get("wrpo").asLong()).isEqualTo(2);
        Artifact report = service.getBean(ArtifactService.class).get(target.tenantId(),
                UUID.fromString(job.result().get("report").asString()));
        JsonNode data = TestHttp.JSON.readTree(Files.readString(report.dir().resolve("fusion_report.json"))).get("data");
        assertThat(data.get("trainSplit").asString()).isEqualTo("test");
        assertThat(data.get("otherSplitsNotRead").asString()).isEqualTo("train");
        assertThat(data.get("filesNotRead").asString()).isEmpty();
        assertThat(data.get("evalRecords").asLong()).as("the split trained on is never also held out").isZero();

        assertThat(problems("{\"target\": \"target\", \"data\": \"hub\", \"split\": \"validation\", \"name\": "
                + "\"refused\", " + SMALL + "}")).contains("data: data 'hub' has no split 'validation'; found splits "
                + "[test, train]");
        assertThat(problems("{\"target\": \"target\", \"data\": \"prefs\", \"split\": \"test\", \"name\": "
                + "\"refused\", " + SMALL + "}")).contains("split 'test'").contains("is one file");
        assertThat(problems("{\"target\": \"target\", \"candidates\": \"candidates\", \"split\": \"test\", "
                + "\"name\": \"refused\", " + SMALL + "}")).contains("split: only used with 'data'");
    }

    /** The errors of a 422 answer to the fusion spec {@code body}. */
    static String problems(String body) throws Exception {
        return TestHttp.assertProblem(api.call("POST", "/api/v1/fusions", ADMIN_KEY, body), 422, "validation-error")
                .get("errors").toString();
    }

    static final String SMALL = "\"stages\": [\"wrpo\"], \"epochs\": 1, \"lr\": 0.001, \"batchSize\": 4, \"gradAccum\": 1,"
            + " \"maxLength\": 48, \"maxPromptLength\": 24, \"device\": \"cpu\"";

    @Test
    void outOfRangeNumbersAreProblemsNotServerErrors() throws Exception {
        for (String field : List.of("\"maxAttempts\": 2147483648", "\"maxAttempts\": 1e400", "\"maxAttempts\": -1",
                "\"priority\": 2147483648", "\"priority\": 101")) {
            String name = field.substring(1, field.indexOf('"', 1));
            assertThat(problems("{\"target\": \"target\", \"data\": \"prefs\", \"name\": \"refused\", " + SMALL + ", "
                    + field + "}")).as(field).contains(name + ": must be an integer between");
        }
        for (String field : List.of("\"maxNewTokens\": 2147483648", "\"maxNewTokens\": 32769", "\"targetSamples\": 1.5",
                "\"targetSamples\": 65", "\"seed\": 99999999999999999999999", "\"temperature\": 1e400")) {
            String name = field.substring(1, field.indexOf('"', 1));
            assertThat(problems("{\"target\": \"target\", \"candidates\": \"candidates\", \"name\": \"refused\", "
                    + SMALL + ", \"build\": {" + field + "}}")).as(field).contains("build." + name + ": must be");
        }
        String bounds = problems("{\"target\": \"target\", \"data\": \"prefs\", \"name\": \"refused\", " + SMALL
                + ", \"epochs\": 101, \"gradAccum\": 1025}");
        assertThat(bounds).contains("epochs: must be at most 100, got 101").contains("gradAccum: must be at most 1024");
        assertThat(bounds.split("epochs: must be at most", -1)).as("each problem listed once: " + bounds).hasSize(2);
    }

    @Test
    void lengthsBeyondTheTargetsContextAreProblems() throws Exception {
        assertThat(problems("{\"target\": \"target\", \"data\": \"prefs\", \"name\": \"refused\", \"device\": \"cpu\"}"))
                .as("the default maxLength 2048").contains("maxLength 2048 exceeds the target's max_position_embeddings 256");
        // (a maxNewTokens beyond the context is no problem: samples stop at it, see WrpoPipelineTest)
        assertThat(problems("{\"target\": \"target\", \"candidates\": \"candidates\", \"name\": \"refused\", "
                + SMALL + ", \"tokenization\": \"bpe\", \"stepAccounting\": \"floor\", \"build\": "
                + "{\"pairRule\": \"best-of-all\", \"minMargin\": -1}}"))
                .contains("tokenization: must be auto, reference or amalgam, got bpe")
                .contains("stepAccounting: must be reference or all-batches, got floor")
                .contains("pairRule: must be wrpo or fusechat3, got best-of-all")
                .contains("minMargin");
    }

    @Test
    void outputNamesAndDerivedNamesFollowTheArtifactNameRules() throws Exception {
        for (String name : List.of("../../etc/passwd", "x".repeat(300), ".hidden")) {
            assertThat(problems("{\"target\": \"target\", \"data\": \"prefs\", \"name\": \"" + name + "\", " + SMALL + "}"))
                    .as(name).contains("the name of the trained model, must be 1-200 characters");
        }
        // 189 characters fit the model's and the report's names, not "{name}-preferences"
        assertThat(problems("{\"target\": \"target\", \"candidates\": \"candidates\", \"name\": \"" + "f".repeat(189)
                + "\", " + SMALL + "}")).contains("the name of the built preference records, must be 1-200 characters")
                .doesNotContain("the name of the report");
    }

    @Test
    void nulAndUnpairedSurrogatesInStringsAreProblemsNamingTheField() throws Exception {
        assertThat(problems("{\"target\": \"target\", \"data\": \"prefs\", \"name\": \"a\\u0000b\", " + SMALL + "}"))
                .contains("name: must not contain the NUL character");
        assertThat(problems("{\"target\": \"target\\u0000\", \"data\": \"prefs\", \"name\": \"refused\", " + SMALL + "}"))
                .contains("target: must not contain the NUL character");
        assertThat(problems("{\"target\": \"target\", \"data\": \"prefs\", \"name\": \"refused\", " + SMALL
                + ", \"lora\": {\"targetModules\": [\"q_proj\\udc00\"]}}"))
                .contains("lora.targetModules[0]: must not contain an unpaired UTF-16 surrogate");
    }

    static Job awaitFinal(UUID id) throws InterruptedException {
        return TestJobs.awaitFinal(service, target.tenantId(), id, Duration.ofSeconds(300));
    }
}
