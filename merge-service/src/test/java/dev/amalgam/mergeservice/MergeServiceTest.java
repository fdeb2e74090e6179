package dev.amalgam.mergeservice;

import static dev.amalgam.platform.testing.TestApps.ADMIN_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.ShardedCheckpointWriter;
import dev.amalgam.modelio.TensorSpec;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.ApiKeyService;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobFilter;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.testing.TestApps;
import dev.amalgam.platform.testing.TestDatabase;
import dev.amalgam.platform.testing.TestHttp;
import dev.amalgam.platform.testing.TestJobs;
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
import tools.jackson.databind.JsonNode;

/** POST /api/v1/merges end to end on the service: validation, the merge job, the published model. */
class MergeServiceTest {

    @TempDir
    static Path dataDir;

    static ConfigurableApplicationContext service;
    static TestHttp api;
    static Artifact modelA;
    static Artifact modelB;

    @BeforeAll
    static void start() {
        service = TestApps.start(MergeServiceApplication.application(), TestDatabase.newDatabase(), dataDir, Map.of());
        api = new TestHttp(TestApps.baseUrl(service));
        TinySizes sizes = TinySizes.defaults();
        TinyModels.write(Architecture.LLAMA, dataDir.resolve("import/a"), sizes, 1);
        TinyModels.write(Architecture.LLAMA, dataDir.resolve("import/b"), sizes, 2);
        TinyModels.write(Architecture.QWEN2, dataDir.resolve("import/q"), sizes, 3);
        ArtifactService artifacts = service.getBean(ArtifactService.class);
        UUID tenant = service.getBean(ApiKeyService.class).authenticate(ADMIN_KEY).orElseThrow().tenantId();
        modelA = artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "model-a", "a");
        modelB = artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "model-b", "b");
        artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "model-q", "q");
        writeAdapter(dataDir.resolve("import/a"), dataDir.resolve("import/lora"));
        adapter = artifacts.importFromRoot(tenant, ArtifactKind.CHECKPOINT, "lora-a", "lora");
    }

    static Artifact adapter;
    static final String ADAPTED = "model.layers.0.self_attn.q_proj.weight";
    static float[] loraA;
    static float[] loraB;

    /** A PEFT adapter of rank 2, lora_alpha 4 (scale 2) on layer 0's q_proj of {@code model}. */
    static void writeAdapter(Path model, Path dir) {
        long[] shape;
        try (HfModelDir m = HfModelDir.open(model)) {
            shape = m.info(ADAPTED).shape();
        }
        java.util.Random random = new java.util.Random(5);
        loraA = new float[2 * (int) shape[1]];
        loraB = new float[(int) shape[0] * 2];
        for (int i = 0; i < loraA.length; i++) {
            loraA[i] = (float) random.nextGaussian() * 0.1f;
        }
        for (int i = 0; i < loraB.length; i++) {
            loraB[i] = (float) random.nextGaussian() * 0.1f;
        }
        String module = "base_model.model.model.layers.0.self_attn.q_proj";
        List<TensorSpec> specs = List.of(new TensorSpec(module + ".lora_A.weight", DType.F32, new long[] {2, shape[1]}),
                new TensorSpec(module + ".lora_B.weight", DType.F32, new long[] {shape[0], 2}));
        try (ShardedCheckpointWriter w = ShardedCheckpointWriter.create(dir, specs, Long.MAX_VALUE)) {
            w.write(specs.get(0).name(), loraA);
            w.write(specs.get(1).name(), loraB);
        }
        try {
            java.nio.file.Files.move(dir.resolve(ShardedCheckpointWriter.SINGLE_FILE), dir.resolve("adapter_model.safetensors"));
            java.nio.file.Files.writeString(dir.resolve("adapter_config.json"),
                    "{\"peft_type\":\"LORA\",\"r\":2,\"lora_alpha\":4,\"target_modules\":[\"q_proj\"]}");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void theOpenApiDocumentTypesTheMergeSpecAndHasNoCallerParameter() throws Exception {
        var r = api.call("GET", "/v3/api-docs", null, null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode doc = TestHttp.JSON.readTree(r.body());
        JsonNode post = doc.get("paths").get("/api/v1/merges").get("post");
        assertThat(post.get("requestBody").get("content").get("application/json").get("schema").get("$ref").asString())
                .isEqualTo("#/components/schemas/MergeJobSpec");
        JsonNode spec = doc.get("components").get("schemas").get("MergeJobSpec");
        assertThat(spec.get("properties").propertyNames()).contains("config", "configYaml", "output", "seed", "priority", "maxAttempts");
        assertThat(post.get("responses").propertyNames()).contains("202", "422");
        // the 202 answers a merge job, whose result is the merge's result schema
        assertThat(post.get("responses").get("202").get("content").get("application/json").get("schema").get("$ref").asString())
                .isEqualTo("#/components/schemas/MergeJob");
        JsonNode schemas = doc.get("components").get("schemas");
        assertThat(schemas.get("MergeJob").toString()).contains("#/components/schemas/JobView", "#/components/schemas/MergeJobResult");
        assertThat(schemas.get("MergeJobResult").get("properties").propertyNames())
                .contains("artifact", "method", "tensors", "parameterCount", "warnings");
        assertThat(schemas.get("MergeJobResult").get("additionalProperties").asBoolean(true)).isFalse();
        assertThat(schemas.get("JobView").get("properties").get("result").get("anyOf").toString())
                .contains("#/components/schemas/MergeJobResult");
        assertThat(schemas.get("Problem").get("example").get("errors").isArray()).as(schemas.get("Problem").toString()).isTrue();
        assertThat(r.body()).doesNotContain("\"caller\"");
    }

    @Test
    void linearMergeOfTwoArtifactsPublishesTheAverageWithLineage() throws Exception {
        String body = """
                {"configYaml": "merge_method: linear\\nmodels:\\n  - model: model-a\\n    parameters: {weight: 1.0}\\n  - model: %s\\n    parameters: {weight: 1.0}\\ndtype: float32\\n",
                 "output": "avg-ab"}""".formatted(modelB.id());
        var r = api.call("POST", "/api/v1/merges", ADMIN_KEY, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        assertThat(TestHttp.JSON.readTree(r.body()).get("inputs").toString())
                .contains(modelA.id().toString()).contains(modelB.id().toString());
        // the job endpoints live in the gateway; here the registry is read directly
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(job.result().get("method").asString()).isEqualTo("linear");

        Artifact out = service.getBean(ArtifactService.class)
                .get(modelA.tenantId(), UUID.fromString(job.result().get("artifact").asString()));
        assertThat(out.metadata().get("architecture").asString()).isEqualTo("LlamaForCausalLM");
        try (HfModelDir a = HfModelDir.open(Path.of(modelA.storagePath()));
             HfModelDir b = HfModelDir.open(Path.of(modelB.storagePath()));
             HfModelDir m = HfModelDir.open(Path.of(out.storagePath()))) {
            assertThat(m.tensorNames()).isEqualTo(a.tensorNames());
            for (String name : a.tensorNames()) {
                float[] x = a.tensor(name).toFloatArray();
                float[] y = b.tensor(name).toFloatArray();
                float[] z = m.tensor(name).toFloatArray();
                for (int i = 0; i < x.length; i++) {
                    assertThat(z[i]).as("%s[%d]", name, i).isCloseTo((x[i] + y[i]) / 2, org.assertj.core.data.Offset.offset(1e-6f));
                }
            }
        }
    }

    @Test
    void modelPlusAdapterResolvesBothArtifactsAndMergesTheAdaptedModel() throws Exception {
        String body = """
                {"configYaml": "merge_method: linear\\nmodels:\\n  - model: model-a+lora-a\\n    parameters: {weight: 1.0}\\n  - model: model-b\\n    parameters: {weight: 1.0}\\ndtype: float32\\n",
                 "output": "avg-a-lora-b"}""";
        var r = api.call("POST", "/api/v1/merges", ADMIN_KEY, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        assertThat(TestHttp.JSON.readTree(r.body()).get("inputs").toString())
                .contains(modelA.id().toString()).contains(adapter.id().toString()).contains(modelB.id().toString());
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        Artifact out = service.getBean(ArtifactService.class)
                .get(modelA.tenantId(), UUID.fromString(job.result().get("artifact").asString()));
        try (HfModelDir a = HfModelDir.open(Path.of(modelA.storagePath()));
             HfModelDir b = HfModelDir.open(Path.of(modelB.storagePath()));
             HfModelDir m = HfModelDir.open(Path.of(out.storagePath()))) {
            float[] x = a.tensor(ADAPTED).toFloatArray();
            float[] y = b.tensor(ADAPTED).toFloatArray();
            float[] z = m.tensor(ADAPTED).toFloatArray();
            int cols = (int) a.info(ADAPTED).shape()[1];
            for (int i = 0; i < x.length; i++) {
                int row = i / cols;
                int col = i % cols;
                float ba = 0f;
                for (int k = 0; k < 2; k++) {
                    ba += loraB[row * 2 + k] * loraA[k * cols + col];
                }
                float adapted = x[i] + 2f * ba;
                assertThat(z[i]).as("%s[%d]", ADAPTED, i).isCloseTo((adapted + y[i]) / 2, org.assertj.core.data.Offset.offset(1e-6f));
            }
        }
        // the adapter must be a CHECKPOINT holding adapter_config.json: a MODEL there is a problem naming it
        String wrong = body.replace("lora-a", "model-b").replace("avg-a-lora-b", "wrong-adapter");
        assertThat(problems(wrong)).contains("config: model 'model-a+model-b': adapter: artifact 'model-b' is a MODEL,"
                + " expected a CHECKPOINT");
    }

    @Test
    void whatTheConfigIgnoresAsMergekitDoesIsListedInTheJobResultWarnings() throws Exception {
        var r = api.call("POST", "/api/v1/merges", ADMIN_KEY, """
                {"configYaml": "merge_method: linear\\nnote: by hand\\nmodels:\\n  - model: model-a\\n    parameters: {weight: 1.0, density: 0.5}\\n",
                 "output": "lenient-a"}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(job.result().get("warnings").toString())
                .contains("unknown key 'note' is ignored (as mergekit does)")
                .contains("parameter 'density' is not used by linear here and is ignored");
    }

    @Test
    void aClientKeyInThePipelineStepFormIsRefusedSoItCannotTakeAStepsPlace() throws Exception {
        String body = """
                {"configYaml": "merge_method: linear\\nmodels:\\n  - model: model-a\\n    parameters: {weight: 1.0}\\n",
                 "output": "pre-empted"}""";
        String multi = TestHttp.JSON.writeValueAsString(Map.of("output", "pre-empted-multi", "configYaml",
                "name: s\nmerge_method: linear\nmodels:\n  - model: model-a\n    parameters: {weight: 1.0}\n"));
        // the key a pipeline's step 'merge' gets, in the exact form and in another letter case
        for (String key : List.of("pipeline:" + UUID.randomUUID() + ":merge", "Pipeline:x", "pipeline:")) {
            var job = api.call("POST", "/api/v1/merges", ADMIN_KEY, body, "Idempotency-Key", key);
            assertThat(TestHttp.assertProblem(job, 422, "validation-error").get("errors").toString())
                    .as(key).contains("Idempotency-Key: keys starting with 'pipeline:' are reserved for the steps of pipelines");
            var pipeline = api.call("POST", "/api/v1/merges/multi", ADMIN_KEY, multi, "Idempotency-Key", key);
            assertThat(TestHttp.assertProblem(pipeline, 422, "validation-error").get("errors").toString())
                    .as(key).contains("Idempotency-Key: keys starting with 'pipeline:' are reserved");
        }
        var queued = service.getBean(JobService.class).list(modelA.tenantId(), new JobFilter(null, null), 0, 100);
        assertThat(queued).noneMatch(j -> j.idempotencyKey() != null && j.idempotencyKey().toLowerCase().startsWith("pipeline:"));
        // a key that merely mentions the word is a client's to use
        var fine = api.call("POST", "/api/v1/merges", ADMIN_KEY, body, "Idempotency-Key", "my-pipeline:1");
        assertThat(fine.statusCode()).as(fine.body()).isEqualTo(202);
        awaitFinal(UUID.fromString(TestHttp.JSON.readTree(fine.body()).get("id").asString()));
    }

    @Test
    void anIdempotentRetryAfterTheJobFinishedGetsTheFirstJobAndAReusedKeyIsRefused() throws Exception {
        String body = """
                {"configYaml": "merge_method: linear\\nmodels:\\n  - model: model-a\\n    parameters: {weight: 1.0}\\n  - model: model-b\\n    parameters: {weight: 1.0}\\n",
                 "output": "retried"}""";
        var first = api.call("POST", "/api/v1/merges", ADMIN_KEY, body, "Idempotency-Key", "merge-retry-1");
        assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
        String id = TestHttp.JSON.readTree(first.body()).get("id").asString();
        assertThat(awaitFinal(UUID.fromString(id)).status()).isEqualTo(JobStatus.SUCCEEDED);

        // the output name is now taken: a fresh submission would be refused, a retry is not
        var retry = api.call("POST", "/api/v1/merges", ADMIN_KEY, body, "Idempotency-Key", "merge-retry-1");
        assertThat(retry.statusCode()).as(retry.body()).isEqualTo(202);
        assertThat(TestHttp.JSON.readTree(retry.body()).get("id").asString()).isEqualTo(id);
        assertThat(retry.headers().firstValue("Idempotent-Replayed")).contains("true");

        var reused = api.call("POST", "/api/v1/merges", ADMIN_KEY, body.replace("retried", "other"), "Idempotency-Key", "merge-retry-1");
        assertThat(TestHttp.assertProblem(reused, 422, "validation-error").get("errors").toString()).contains("Idempotency-Key");
        var fresh = api.call("POST", "/api/v1/merges", ADMIN_KEY, body);
        assertThat(TestHttp.assertProblem(fresh, 422, "validation-error").get("errors").toString()).contains("already exists");
    }

    @Test
    void invalidSpecsListEveryProblemAndQueueNothing() throws Exception {
        var r = api.call("POST", "/api/v1/merges", ADMIN_KEY, """
                {"config": {"merge_method": "no_such_method", "models": [{"model": "missing-model"}]},
                 "configYaml": "x", "bogus": 1}""");
        JsonNode problem = TestHttp.assertProblem(r, 422, "validation-error");
        String errors = problem.get("errors").toString();
        assertThat(errors).contains("exactly one of").contains("output").contains("bogus");

        var unknownMethod = api.call("POST", "/api/v1/merges", ADMIN_KEY, """
                {"config": {"merge_method": "no_such_method", "models": [{"model": "missing-model"}]}, "output": "x"}""");
        String e2 = TestHttp.assertProblem(unknownMethod, 422, "validation-error").get("errors").toString();
        assertThat(e2).contains("no_such_method").contains("linear");

        var missing = api.call("POST", "/api/v1/merges", ADMIN_KEY, """
                {"config": {"merge_method": "linear", "models": [{"model": "missing-model", "parameters": {"weight": 1}},
                 {"model": "model-a", "parameters": {"weight": 1}}]}, "output": "model-a"}""");
        String e3 = TestHttp.assertProblem(missing, 422, "validation-error").get("errors").toString();
        assertThat(e3).contains("missing-model").contains("already exists");

        var mixedArchitectures = api.call("POST", "/api/v1/merges", ADMIN_KEY, """
                {"config": {"merge_method": "linear", "models": [{"model": "model-q", "parameters": {"weight": 1}},
                 {"model": "model-a", "parameters": {"weight": 1}}]}, "output": "never"}""");
        TestHttp.assertProblem(mixedArchitectures, 422, "validation-error");

        var queued = service.getBean(JobService.class).list(modelA.tenantId(), new JobFilter(null, null), 0, 100);
        assertThat(queued).noneMatch(j -> j.spec().path("output").asString().equals("never"));
    }

    /** The errors of a 422 answer to the merge spec {@code body}. */
    static String problems(String body) throws Exception {
        return TestHttp.assertProblem(api.call("POST", "/api/v1/merges", ADMIN_KEY, body), 422, "validation-error")
                .get("errors").toString();
    }

    static final String LINEAR = "\"config\": {\"merge_method\": \"linear\", \"models\": [{\"model\": \"model-a\","
            + " \"parameters\": {\"weight\": 1}}]}";

    @Test
    void aLayerRangeOfTwoBillionLayersIsAProblemAnsweredAtOnce() {
        String errors = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> problems("""
                {"configYaml": "merge_method: passthrough\\nslices: [{sources: [{model: model-a, layer_range: [0, 2147483647]}]}]\\n",
                 "output": "franken"}"""), "only a guard: the planner used to loop over every layer of the range");
        assertThat(errors).contains("slices[0].sources[0] (model-a).layer_range [0, 2147483647] goes beyond layer 1024");
    }

    @Test
    void outOfRangeJobSettingsAndSeedsAreProblemsNotServerErrors() throws Exception {
        for (String field : List.of("\"maxAttempts\": 2147483648", "\"maxAttempts\": 1e400", "\"maxAttempts\": -1",
                "\"maxAttempts\": 11", "\"priority\": 2147483648", "\"priority\": 101", "\"priority\": -101",
                "\"seed\": 99999999999999999999999")) {
            String name = field.substring(1, field.indexOf('"', 1));
            assertThat(problems("{" + LINEAR + ", \"output\": \"refused\", " + field + "}")).as(field)
                    .contains(name + ": must be an integer between");
        }
    }

    @Test
    void nonFiniteWeightsAreProblemsNamingTheParameter() throws Exception {
        assertThat(problems("""
                {"configYaml": "merge_method: linear\\nmodels:\\n  - model: model-a\\n    parameters: {weight: 1e400}\\n",
                 "output": "refused"}""")).contains("parameter 'weight' must be a finite number, got Infinity");
        assertThat(problems("""
                {"config": {"merge_method": "linear", "models": [{"model": "model-a", "parameters": {"weight": -1e400}}]},
                 "output": "refused"}""")).contains("parameter 'weight' must be a number, got -Infinity");
    }

    @Test
    void outputNamesFollowTheArtifactNameRules() throws Exception {
        for (String output : List.of("../../etc/passwd", "x".repeat(300), "-leading-dash", "a b")) {
            assertThat(problems("{" + LINEAR + ", \"output\": \"" + output + "\"}")).as(output)
                    .contains("output: '").contains("the name of the merged model, must be 1-200 characters");
        }
    }

    @Test
    void nulAndUnpairedSurrogatesInStringsAreProblemsNamingTheField() throws Exception {
        assertThat(problems("{" + LINEAR + ", \"output\": \"a\\u0000b\"}"))
                .contains("output: must not contain the NUL character");
        assertThat(problems("""
                {"config": {"merge_method": "linear", "models": [{"model": "model-a\\u0000"}]}, "output": "refused"}"""))
                .contains("config.models[0].model: must not contain the NUL character");
        assertThat(problems("{\"configYaml\": \"merge_method: linear\\u0000\", \"output\": \"refused\"}"))
                .contains("configYaml: must not contain the NUL character");
        assertThat(problems("{" + LINEAR + ", \"output\": \"\\ud800x\"}"))
                .contains("output: must not contain an unpaired UTF-16 surrogate");
    }

    static Job awaitFinal(UUID id) throws InterruptedException {
        return TestJobs.awaitFinal(service, modelA.tenantId(), id, Duration.ofSeconds(60));
    }
}
