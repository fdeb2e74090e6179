package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelengine.tiny.TinyVocabulary;
import dev.amalgam.modelio.DType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Pipelines through the gateway of the whole platform on tiny models: steps of two services run as ordinary jobs in
 * DAG order, produce what the same jobs submitted by hand produce, and carry lineage; every problem of a pipeline is
 * answered at once; a step that no longer validates once its inputs exist fails the pipeline; a cancellation
 * cancels it.
 */
class PipelineHttpTest {

    static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path dir;

    static LocalPlatform platform;
    static String base;
    static String key;
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void start() throws Exception {
        Path imports = Files.createDirectories(dir.resolve("import"));
        TinySizes tiny = new TinySizes(64, 128, 8, 4, 2, 256, DType.BF16);
        TinyModels.write(Architecture.LLAMA, imports.resolve("a"), tiny, 2);
        TinyModels.write(Architecture.LLAMA, imports.resolve("b"), tiny, 3);
        TinyModels.write(Architecture.LLAMA, imports.resolve("wide"), new TinySizes(96, 128, 8, 4, 2, 256, DType.BF16), 4);
        CrashRecoveryTest.writeCalibration(imports.resolve("calib.jsonl"), 8);
        platform = LocalPlatform.start(0, dir.resolve("data"), imports);
        base = "http://localhost:" + platform.port();
        key = Files.readString(dir.resolve("data").resolve("api-key")).trim();
        for (String[] a : new String[][] {{"MODEL", "a", "a"}, {"MODEL", "b", "b"}, {"MODEL", "wide", "wide"},
                {"DATASET", "calib", "calib.jsonl"}}) {
            HttpResponse<String> r = post("/api/v1/artifacts/import",
                    "{\"kind\":\"" + a[0] + "\",\"name\":\"" + a[1] + "\",\"path\":\"" + a[2] + "\"}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        }
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    static String mergeSpec(String output) {
        return """
                {"configYaml": "merge_method: linear\\nmodels:\\n  - model: a\\n    parameters: {weight: 0.3}\\n  - model: b\\n    parameters: {weight: 0.7}\\ndtype: bfloat16\\n",
                 "output": "%s"}""".formatted(output);
    }

    static String evaluateSpec(String model) {
        return "{\"model\": \"" + model + "\", \"dataset\": \"calib\", \"seqLen\": 64}";
    }

    static String pruneSpec(String model, String name) {
        return """
                {"model": "%s", "dataset": "calib", "name": "%s", "method": "blockpruner", "blocks": 2,
                 "samples": 4, "seqLen": 64, "batchSize": 2}""".formatted(model, name);
    }

    @Test
    void aMergeThenAnEvaluationAndAPruningOfItRunAsJobsWithTheOutputsOfTheSameJobsRunByHand() throws Exception {
        String pipeline = """
                {"steps": [
                  {"name": "evaluate", "type": "evaluate", "spec": %s},
                  {"name": "prune", "type": "prune", "spec": %s},
                  {"name": "merge", "type": "merge", "spec": %s}
                ]}""".formatted(evaluateSpec("${steps.merge.outputs.model}"), pruneSpec("${steps.merge.outputs.model}", "p1-pruned"),
                mergeSpec("p1-merged"));
        HttpResponse<String> accepted = post("/api/v1/pipelines", pipeline);
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        UUID id = UUID.fromString(JSON.readTree(accepted.body()).path("id").asString());
        assertThat(accepted.headers().firstValue("Location")).hasValue("/api/v1/pipelines/" + id);
        assertThat(JSON.readTree(accepted.body()).path("type").asString()).isEqualTo("pipeline");

        JsonNode end = awaitFinal(id);
        assertThat(end.path("status").asString()).as(end.toString()).isEqualTo("SUCCEEDED");
        assertThat(end.path("progress").asDouble()).isEqualTo(1.0);

        // each step is an ordinary job, visible in the job list
        JsonNode view = JSON.readTree(get("/api/v1/pipelines/" + id).body());
        Map<String, JsonNode> steps = new TreeMap<>();
        view.path("steps").forEach(s -> steps.put(s.path("name").asString(), s));
        assertThat(steps.keySet()).containsExactly("evaluate", "merge", "prune");
        assertThat(steps.get("prune").path("dependsOn").toString()).isEqualTo("[\"merge\"]");
        steps.values().forEach(s -> assertThat(s.path("status").asString()).isEqualTo("SUCCEEDED"));
        JsonNode merge = job(UUID.fromString(steps.get("merge").path("job").asString()));
        JsonNode evaluate = job(UUID.fromString(steps.get("evaluate").path("job").asString()));
        JsonNode prune = job(UUID.fromString(steps.get("prune").path("job").asString()));
        assertThat(merge.path("type").asString()).isEqualTo("merge");
        JsonNode list = JSON.readTree(get("/api/v1/jobs?type=pipeline").body());
        assertThat(list.path("items").findValuesAsString("id")).contains(id.toString());

        // DAG order: the later steps started after the merge ended
        assertThat(java.time.OffsetDateTime.parse(evaluate.path("startedAt").asString()))
                .isAfterOrEqualTo(java.time.OffsetDateTime.parse(merge.path("finishedAt").asString()));
        assertThat(java.time.OffsetDateTime.parse(prune.path("startedAt").asString()))
                .isAfterOrEqualTo(java.time.OffsetDateTime.parse(merge.path("finishedAt").asString()));

        // lineage through every step: the merged model is the merge's output and the later steps' input
        String merged = merge.path("result").path("artifact").asString();
        assertThat(strings(merge.path("outputs"))).containsExactly(merged);
        assertThat(strings(evaluate.path("inputs"))).contains(merged);
        assertThat(strings(prune.path("inputs"))).contains(merged);
        // and the pipeline's own: what it read from outside (a, b, calib), everything it made
        List<String> pipelineOutputs = strings(end.path("outputs"));
        assertThat(pipelineOutputs).contains(merged).containsAll(strings(prune.path("outputs"))).hasSize(3);
        assertThat(strings(end.path("inputs"))).hasSize(3).doesNotContain(merged);

        // the same jobs by hand give the same outputs
        UUID byHand = submit("/api/v1/merges", mergeSpec("h1-merged"));
        JsonNode handMerge = awaitFinal(byHand);
        assertThat(files(handMerge.path("result").path("artifact").asString())).isEqualTo(files(merged));
        JsonNode handEval = awaitFinal(submit("/api/v1/evaluations", evaluateSpec("h1-merged")));
        assertThat(handEval.path("result")).isEqualTo(evaluate.path("result"));
        JsonNode handPrune = awaitFinal(submit("/api/v1/prunings", pruneSpec("h1-merged", "h1-pruned")));
        assertThat(handPrune.path("result").path("removedBlocks")).isEqualTo(prune.path("result").path("removedBlocks"));
    }

    @Test
    void everyProblemOfAPipelineIsAnsweredAtOnceNamingItsStep() throws Exception {
        String pipeline = """
                {"steps": [
                  {"name": "merge", "type": "merge", "spec": {"configYaml": "merge_method: linear\\nmodels:\\n  - model: a\\n  - model: nope\\n"}},
                  {"name": "eval", "type": "evaluate", "spec": {"model": "${steps.merge.outputs.model}", "dataset": "${steps.merge.outputs.model}"}},
                  {"name": "what", "type": "distill", "spec": {}},
                  {"name": "prune", "type": "prune", "spec": %s}
                ]}""".formatted(pruneSpec("a", "a"));
        HttpResponse<String> r = post("/api/v1/pipelines", pipeline);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        List<String> errors = strings(JSON.readTree(r.body()).path("errors"));
        assertThat(errors).anySatisfy(e -> assertThat(e).startsWith("steps[0].spec.output:"))
                .anySatisfy(e -> assertThat(e).startsWith("steps[0].spec.config: model 'nope'"))
                .anySatisfy(e -> assertThat(e).startsWith("steps[1].spec.dataset: ${steps.merge.outputs.model} is step 'merge''s model output"))
                .anySatisfy(e -> assertThat(e).startsWith("steps[2].type: no job type 'distill'"))
                .anySatisfy(e -> assertThat(e).startsWith("steps[3].spec.name: an artifact named 'a' already exists"));
        assertThat(errors).as("the pending model reference of steps[1] is no problem").noneMatch(e -> e.startsWith("steps[1].spec.model"));

        HttpResponse<String> dangling = post("/api/v1/pipelines",
                "{\"steps\": [{\"name\": \"e\", \"type\": \"evaluate\", \"spec\": " + evaluateSpec("${steps.m.outputs.model}") + "}]}");
        assertThat(dangling.statusCode()).isEqualTo(422);
        assertThat(dangling.body()).contains("steps[0].spec: ${steps.m.outputs.model} refers to no step");

        HttpResponse<String> clash = post("/api/v1/pipelines", """
                {"steps": [{"name": "m1", "type": "merge", "spec": %s}, {"name": "m2", "type": "merge", "spec": %s}]}"""
                .formatted(mergeSpec("same"), mergeSpec("same")));
        assertThat(clash.statusCode()).isEqualTo(422);
        assertThat(clash.body()).contains("steps[1].spec: publishes an artifact named 'same', as steps[0] does");
    }

    @Test
    void aStepThatNoLongerValidatesOnceItsInputExistsFailsThePipeline() throws Exception {
        // merging the merged model with a model of another width: only checkable once the merged model exists
        String pipeline = """
                {"steps": [
                  {"name": "merge", "type": "merge", "spec": %s},
                  {"name": "again", "type": "merge", "spec": {"configYaml": "merge_method: linear\\nmodels:\\n  - model: ${steps.merge.outputs.model}\\n    parameters: {weight: 0.5}\\n  - model: wide\\n    parameters: {weight: 0.5}\\n", "output": "p3-again"}},
                  {"name": "evaluate", "type": "evaluate", "spec": %s}
                ]}""".formatted(mergeSpec("p3-merged"), evaluateSpec("${steps.again.outputs.model}"));
        UUID id = submit("/api/v1/pipelines", pipeline);
        JsonNode end = awaitFinal(id);
        assertThat(end.path("status").asString()).isEqualTo("FAILED");
        assertThat(end.path("error").asString()).startsWith("step 'again' could not be submitted: ");
        JsonNode view = JSON.readTree(get("/api/v1/pipelines/" + id).body());
        assertThat(view.path("steps").get(0).path("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(view.path("steps").get(1).path("status").asString()).isEqualTo("PENDING");
        assertThat(view.path("steps").get(2).path("job").isNull()).as("never submitted").isTrue();
    }

    @Test
    void aCancelledPipelineCancelsItsLiveStepsAndStartsNoOther() throws Exception {
        String pipeline = """
                {"steps": [
                  {"name": "merge", "type": "merge", "spec": %s},
                  {"name": "prune", "type": "prune", "spec": %s}
                ]}""".formatted(mergeSpec("p4-merged"), pruneSpec("${steps.merge.outputs.model}", "p4-pruned"));
        UUID id = submit("/api/v1/pipelines", pipeline);
        UUID merge = null;
        for (long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos(); merge == null; Thread.sleep(20)) {
            JsonNode step = JSON.readTree(get("/api/v1/pipelines/" + id).body()).path("steps").get(0);
            merge = step.path("job").isString() ? UUID.fromString(step.path("job").asString()) : null;
            assertThat(System.nanoTime()).as("the merge step is submitted").isLessThan(deadline);
        }
        HttpResponse<String> cancel = post("/api/v1/pipelines/" + id + "/cancel", "");
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);
        JsonNode end = awaitFinal(id);
        assertThat(end.path("status").asString()).isEqualTo("CANCELLED");
        JsonNode mergeEnd = awaitFinal(merge);
        // the merge was cancelled, or had just finished before the cancellation reached it
        assertThat(mergeEnd.path("status").asString()).isIn("CANCELLED", "SUCCEEDED");
        Thread.sleep(2500); // a few scheduler passes
        JsonNode view = JSON.readTree(get("/api/v1/pipelines/" + id).body());
        assertThat(view.path("steps").get(1).path("job").isNull()).as("the prune step never starts").isTrue();
    }

    @Test
    void mergekitsMultiStageYamlRunsAsAMergePipelineWithTheModelsOfItsMergesByHand() throws Exception {
        String yaml = "merge_method: linear\nmodels:\n  - model: stage1\n    parameters: {weight: 0.5}\n  - model: a\n"
                + "    parameters: {weight: 0.5}\ndtype: bfloat16\n---\nname: stage1\n"
                + "merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 0.3}\n  - model: b\n    parameters: {weight: 0.7}\ndtype: bfloat16\n";
        String body = JSON.writeValueAsString(Map.of("configYaml", yaml, "output", "m5"));
        HttpResponse<String> r = post("/api/v1/merges/multi", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        UUID id = UUID.fromString(JSON.readTree(r.body()).path("id").asString());
        assertThat(r.headers().firstValue("Location")).hasValue("/api/v1/pipelines/" + id);
        JsonNode end = awaitFinal(id);
        assertThat(end.path("status").asString()).as(end.toString()).isEqualTo("SUCCEEDED");
        JsonNode steps = JSON.readTree(get("/api/v1/pipelines/" + id).body()).path("steps");
        assertThat(steps.findValuesAsString("name")).containsExactly("final", "stage1");

        // by hand: the stage, then the final merge naming the stage's model
        awaitFinal(submit("/api/v1/merges", JSON.writeValueAsString(Map.of("output", "h5-stage1", "configYaml",
                yaml.substring(yaml.indexOf("name: stage1\n") + "name: stage1\n".length())))));
        awaitFinal(submit("/api/v1/merges", JSON.writeValueAsString(Map.of("output", "h5", "configYaml",
                yaml.substring(0, yaml.indexOf("---")).replace("model: stage1", "model: h5-stage1")))));
        // the same weights, tokenizer and config.json; README.md and mergekit_config.yml record each merge's config
        // as it reached the merge (as mergekit-multi writes each stage's own config, its stage references patched)
        assertThat(withoutConfigRecords(files("m5-stage1"))).isEqualTo(withoutConfigRecords(files("h5-stage1")));
        assertThat(withoutConfigRecords(files("m5"))).isEqualTo(withoutConfigRecords(files("h5")));
        YAMLMapper yamlMapper = YAMLMapper.builder().build();
        String stageDocument = yaml.substring(yaml.indexOf("name: stage1\n") + "name: stage1\n".length());
        assertThat(yamlMapper.readTree(file("m5-stage1", "mergekit_config.yml")))
                .as("the stage records its own document").isEqualTo(yamlMapper.readTree(stageDocument));
        JsonNode finalConfig = yamlMapper.readTree(file("m5", "mergekit_config.yml"));
        assertThat(finalConfig.path("models").get(0).path("model").asString())
                .as("the final merge names the stage's model").isEqualTo(artifactId("m5-stage1"));

        HttpResponse<String> bad = post("/api/v1/merges/multi", JSON.writeValueAsString(Map.of("output", "m6",
                "configYaml", "name: x\nmerge_method: linear\nmodels:\n  - model: y\n---\nname: y\nmerge_method: linear\nmodels:\n  - model: x\n")));
        assertThat(bad.statusCode()).isEqualTo(422);
        assertThat(bad.body()).contains("configYaml: circular dependency between the stages");
    }

    @Test
    void theFuseChatExamplePipelineRunsOnThePlatformWithArtifactNamesForItsFiles() throws Exception {
        // the committed example, its two files named as dataset artifacts instead of paths (docs/pipelines.md)
        Path imports = dir.resolve("import");
        Path example = Path.of("..", "docs", "examples", "fusechat");
        Files.copy(example.resolve("chat.jsonl"), imports.resolve("chat.jsonl"));
        Files.copy(example.resolve("held-out.jsonl"), imports.resolve("held-out.jsonl"));
        TinySizes sizes = TinySizes.defaults();
        TinyModels.write(Architecture.LLAMA, imports.resolve("pivot"), sizes, 1);
        TinyModels.write(Architecture.LLAMA, imports.resolve("source-1"), sizes, 2, TinyVocabulary.BPE);
        TinyModels.write(Architecture.LLAMA, imports.resolve("source-2"), sizes, 3);
        for (String[] a : new String[][] {{"MODEL", "pivot", "pivot"}, {"MODEL", "source-1", "source-1"},
                {"MODEL", "source-2", "source-2"}, {"DATASET", "chat", "chat.jsonl"}, {"DATASET", "held-out", "held-out.jsonl"}}) {
            HttpResponse<String> r = post("/api/v1/artifacts/import",
                    "{\"kind\":\"" + a[0] + "\",\"name\":\"" + a[1] + "\",\"path\":\"" + a[2] + "\"}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        }
        String yaml = Files.readString(example.resolve("fusechat.yml"))
                .replace("corpus: chat.jsonl", "corpus: chat").replace("dataset: held-out.jsonl", "dataset: held-out");
        JsonNode spec = YAMLMapper.builder().build().readTree(yaml);
        UUID id = submit("/api/v1/pipelines", JSON.writeValueAsString(spec));
        JsonNode end = awaitFinal(id);
        assertThat(end.path("status").asString()).as(end.toString()).isEqualTo("SUCCEEDED");
        JsonNode steps = end.path("result").path("steps");
        assertThat(steps.propertyNames()).hasSize(10);
        for (String eval : List.of("eval-pivot", "eval-varm", "eval-sce")) {
            JsonNode job = job(UUID.fromString(steps.path(eval).path("job").asString()));
            double ppl = job.path("result").path("perplexity").asDouble();
            assertThat(Double.isFinite(ppl) && ppl > 1).as(eval + " perplexity " + ppl).isTrue();
        }
        // the merges read the fusions' targets, which read the representations
        JsonNode varm = job(UUID.fromString(steps.path("merge-varm").path("job").asString()));
        assertThat(strings(varm.path("inputs"))).contains(artifactId("target-1"), artifactId("target-2"), artifactId("pivot"));
        JsonNode fuse = job(UUID.fromString(steps.path("fuse-s1").path("job").asString()));
        assertThat(strings(fuse.path("inputs"))).contains(artifactId("repr-pivot"), artifactId("repr-s1"), artifactId("source-1"));
        assertThat(files("fusechat-sce")).containsKey("model.safetensors");
    }

    @Test
    void malformedPipelineRequestsAnswer422Or404NeverAServerError() throws Exception {
        for (String body : List.of("[]", "\"x\"", "null", "{\"steps\": \"x\"}", "{\"steps\": [1]}", "{\"steps\": [{}]}")) {
            HttpResponse<String> r = post("/api/v1/pipelines", body);
            assertThat(r.statusCode()).as(body + ": " + r.body()).isIn(400, 422);
        }
        assertThat(get("/api/v1/pipelines/" + UUID.randomUUID()).statusCode()).isEqualTo(404);
        UUID merge = submit("/api/v1/merges", mergeSpec("p7-merged"));
        assertThat(get("/api/v1/pipelines/" + merge).statusCode()).as("a job that is not a pipeline").isEqualTo(404);
        assertThat(post("/api/v1/pipelines/" + merge + "/cancel", "").statusCode()).isEqualTo(404);
        awaitFinal(merge);
    }

    // ---- HTTP ----

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asString()));
        return out;
    }

    /** An artifact's files by path, with their sha256; {@code artifact} is an id or a name. */
    static Map<String, String> files(String artifact) throws Exception {
        Map<String, String> out = new TreeMap<>();
        HttpResponse<String> r = get("/api/v1/artifacts/" + artifactId(artifact) + "/files");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JSON.readTree(r.body())
                .forEach(f -> out.put(f.get("path").asString(), f.get("sha256").asString()));
        assertThat(out).isNotEmpty();
        return out;
    }

    /** The files endpoint takes an artifact's id: a name is looked up in the caller's artifacts first. */
    static String artifactId(String artifact) throws Exception {
        if (artifact.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")) {
            return artifact;
        }
        String id = null;
        String list = get("/api/v1/artifacts?name=" + artifact + "&size=200").body();
        for (JsonNode a : JSON.readTree(list).path("items")) {
            if (a.path("name").asString().equals(artifact)) {
                id = a.path("id").asString();
            }
        }
        assertThat(id).as("artifact " + artifact + " in " + list).isNotNull();
        return id;
    }

    static Map<String, String> withoutConfigRecords(Map<String, String> files) {
        Map<String, String> out = new TreeMap<>(files);
        out.remove("README.md");
        out.remove("mergekit_config.yml");
        return out;
    }

    /** The text of one file of an artifact. */
    static String file(String artifact, String path) throws Exception {
        HttpResponse<String> r = get("/api/v1/artifacts/" + artifactId(artifact) + "/files/" + path);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    static UUID submit(String path, String body) throws Exception {
        HttpResponse<String> r = post(path, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return UUID.fromString(JSON.readTree(r.body()).path("id").asString());
    }

    static JsonNode awaitFinal(UUID id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode job = job(id);
            if (List.of("SUCCEEDED", "FAILED", "CANCELLED").contains(job.path("status").asString())) {
                return job;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("job " + id + " did not finish");
    }

    static JsonNode job(UUID id) throws Exception {
        HttpResponse<String> r = get("/api/v1/jobs/" + id);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + key)
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
