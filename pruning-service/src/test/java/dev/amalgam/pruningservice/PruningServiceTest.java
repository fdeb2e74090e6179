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
        Files.writeString(dataDir.resolve("import/piqa.jsonl"), """
                {"goal": "How do I open a jar?", "sol1": "Twist the lid.", "sol2": "Eat the lid.", "label": 0}
                {"goal": "How do I dry my hands?", "sol1": "Use a towel.", "sol2": "Use a bucket of water.", "label": 0}
                {"goal": "How do I cool tea?", "sol1": "Boil it again.", "sol2": "Let it stand.", "label": 1}
                """);
        Files.writeString(dataDir.resolve("import/wg.jsonl"), """
                {"sentence": "The cup fell off the table because _ was too close to the edge.", "option1": "the cup", "option2": "the table", "answer": "1"}
                {"sentence": "Ann gave Bea a gift because _ had a birthday.", "option1": "Ann", "option2": "Bea", "answer": "2"}
                """);
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "piqa-mini", "piqa.jsonl");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "wg-mini", "wg.jsonl");
        Files.writeString(dataDir.resolve("import/no-text.jsonl"), "{\"body\": \"a record without text\"}\n");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "no-text", "no-text.jsonl");
        TinyModels.write(Architecture.LLAMA, dataDir.resolve("import/m2"), TinySizes.defaults(), 8);
        model2 = artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "tiny2", "m2");
    }

    static Artifact model2;

    @Test
    void comparisonTablesEachModelsEvaluationAsTheEvaluationComputesIt() throws Exception {
        var r = api.call("POST", "/api/v1/comparisons", ADMIN_KEY, """
                {"models": ["tiny", "tiny2"], "dataset": "wiki", "seqLen": 16,
                 "tasks": [{"name": "piqa", "dataset": "piqa-mini", "format": "piqa", "limit": 2},
                           {"name": "wg", "dataset": "wg-mini", "format": "winogrande"}],
                 "batchSize": 2, "name": "tiny-vs-tiny2"}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        var result = job.result();
        assertThat(result.get("columns").toString()).isEqualTo("[\"piqa\",\"wg\"]");
        StringBuilder md = new StringBuilder("| Model | PPL | piqa | wg | Avg. |\n| --- | --- | --- | --- | --- |\n");
        int row = 0;
        for (Artifact m : List.of(model, model2)) {
            double ppl = Perplexity.evaluate(m.dir(), dataset.singleFile(), 16, EngineOptions.cpu()).perplexity();
            double piqa;
            double wg;
            try (var tok = dev.amalgam.modelengine.text.TextTokenizer.load(m.dir());
                    var lm = dev.amalgam.modelengine.CheckpointLoader.load(m.dir(), EngineOptions.cpu())) {
                var enc = dev.amalgam.modelengine.eval.MultipleChoice.Encoding.of(tok);
                var p = dev.amalgam.modelengine.eval.TaskFormat.PIQA;
                var w = dev.amalgam.modelengine.eval.TaskFormat.WINOGRANDE;
                piqa = dev.amalgam.modelengine.eval.MultipleChoice.evaluate(lm, enc, "piqa", p,
                        p.load(dataDir.resolve("import/piqa.jsonl"), 2), dev.amalgam.modelengine.BlockMask.none(), 1,
                        (d, t) -> { }).accNorm();
                wg = dev.amalgam.modelengine.eval.MultipleChoice.evaluate(lm, enc, "wg", w,
                        w.load(dataDir.resolve("import/wg.jsonl"), null), dev.amalgam.modelengine.BlockMask.none(), 1,
                        (d, t) -> { }).acc();
            }
            var got = result.get("rows").get(row++);
            assertThat(got.get("model").asString()).isEqualTo(m.name());
            assertThat(got.get("perplexity").asDouble()).isEqualTo(ppl);
            assertThat(got.get("tasks").get(0).get("metric").asString()).isEqualTo("acc_norm");
            assertThat(got.get("tasks").get(0).get("value").asDouble()).isEqualTo(piqa);
            assertThat(got.get("tasks").get(1).get("metric").asString()).as("winogrande has acc only").isEqualTo("acc");
            assertThat(got.get("tasks").get(1).get("value").asDouble()).isEqualTo(wg);
            assertThat(got.get("average").asDouble()).isEqualTo((piqa + wg) / 2);
            md.append(String.format(java.util.Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %.2f |%n", m.name(), ppl,
                    100 * piqa, 100 * wg, 100 * (piqa + wg) / 2));
        }
        assertThat(result.get("markdown").asString()).isEqualTo(md.toString());
        Artifact report = service.getBean(ArtifactService.class).get(model.tenantId(),
                UUID.fromString(result.get("report").asString()));
        assertThat(report.kind()).isEqualTo(ArtifactKind.REPORT);
        Path dir = Path.of(report.storagePath());
        assertThat(Files.readString(dir.resolve("report.md"))).isEqualTo(md.toString());
        var json = TestHttp.JSON.readTree(Files.readString(dir.resolve("report.json")));
        assertThat(json.get("rows")).isEqualTo(result.get("rows"));
        assertThat(json.get("evaluations").get(1).get("result").get("tasks").get(0).get("docs").asInt()).isEqualTo(2);
        // every model and dataset is an input of the job
        assertThat(TestHttp.JSON.readTree(r.body()).get("inputs").toString()).contains(model.id().toString())
                .contains(model2.id().toString()).contains(dataset.id().toString());
    }

    @Test
    void badComparisonSpecsListEveryProblem() throws Exception {
        String errors = problems("/api/v1/comparisons", """
                {"models": ["tiny", "nope", "tiny"], "dataset": "wiki", "seqLen": 4096,
                 "tasks": [{"name": "piqa", "dataset": "piqa-mini"}], "extra": 1}""");
        assertThat(errors).contains("models: 'tiny' is named twice").contains("models[1]")
                .contains("tasks[0].format").contains("name: ").contains("extra");
        assertThat(problems("/api/v1/comparisons", "{\"models\": [], \"name\": \"x\", \"dataset\": \"wiki\"}"))
                .contains("models: between 1 and 16 models, got 0");
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
    void multipleChoiceTasksReportTheLibrarysScoresAndTheirAverage() throws Exception {
        var r = api.call("POST", "/api/v1/evaluations", ADMIN_KEY, """
                {"model": "tiny", "tasks": [{"name": "piqa", "dataset": "piqa-mini", "format": "piqa", "limit": 2},
                 {"name": "wg", "dataset": "wg-mini", "format": "winogrande"}], "batchSize": 3}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        var result = job.result();
        assertThat(result.get("perplexity").isNull()).as("no dataset, no perplexity").isTrue();
        var piqa = result.get("tasks").get(0);
        var wg = result.get("tasks").get(1);
        assertThat(piqa.get("docs").asInt()).as("limit 2").isEqualTo(2);
        assertThat(wg.get("docs").asInt()).isEqualTo(2);
        assertThat(wg.get("accNorm").isNull()).as("winogrande has acc only").isTrue();
        // the same documents scored by the library directly
        List<dev.amalgam.modelengine.eval.TaskResult> expected = new java.util.ArrayList<>();
        try (var tok = dev.amalgam.modelengine.text.TextTokenizer.load(model.dir());
                var m = dev.amalgam.modelengine.CheckpointLoader.load(model.dir(), EngineOptions.cpu())) {
            var enc = dev.amalgam.modelengine.eval.MultipleChoice.Encoding.of(tok);
            for (var f : List.of(dev.amalgam.modelengine.eval.TaskFormat.PIQA, dev.amalgam.modelengine.eval.TaskFormat.WINOGRANDE)) {
                String file = f == dev.amalgam.modelengine.eval.TaskFormat.PIQA ? "import/piqa.jsonl" : "import/wg.jsonl";
                expected.add(dev.amalgam.modelengine.eval.MultipleChoice.evaluate(m, enc, f.id(), f,
                        f.load(dataDir.resolve(file), f == dev.amalgam.modelengine.eval.TaskFormat.PIQA ? 2 : null),
                        dev.amalgam.modelengine.BlockMask.none(), 1, (d, t) -> { }));
            }
        }
        assertThat(piqa.get("acc").asDouble()).isEqualTo(expected.get(0).acc());
        assertThat(piqa.get("accNorm").asDouble()).isEqualTo(expected.get(0).accNorm());
        assertThat(wg.get("acc").asDouble()).isEqualTo(expected.get(1).acc());
        assertThat(result.get("average").asDouble())
                .isEqualTo((expected.get(0).accNorm() + expected.get(1).acc()) / 2);
    }

    @Test
    void badTaskSpecsNameEachTaskField() throws Exception {
        assertThat(problems("/api/v1/evaluations", "{\"model\": \"tiny\"}"))
                .contains("give a \\\"dataset\\\" (perplexity), \\\"tasks\\\" (multiple choice), or both");
        assertThat(problems("/api/v1/evaluations", """
                {"model": "tiny", "tasks": [{"name": "a", "dataset": "piqa-mini", "format": "mmlu"},
                 {"name": "a", "dataset": "nope", "format": "piqa", "limit": 0, "shots": 5},
                 {"name": "b", "dataset": "wg-mini", "format": "piqa"}]}"""))
                .contains("tasks[0].format: must be one of generic, piqa")
                .contains("tasks[1].name: 'a' names two tasks")
                .contains("tasks[1].dataset").contains("'nope'")
                .contains("tasks[1].limit: must be an integer between")
                .contains("tasks[1].shots: unknown field")
                .contains("tasks[2].dataset: wg.jsonl line 1 (piqa): goal: must be a string (missing)");
    }

    @Test
    void badEvaluationSpecsListEveryProblem() throws Exception {
        var r = api.call("POST", "/api/v1/evaluations", ADMIN_KEY, "{\"model\":\"wiki\",\"dataset\":\"nope\",\"seqLen\":1,\"x\":true}");
        String errors = TestHttp.assertProblem(r, 422, "validation-error").get("errors").toString();
        assertThat(errors).contains("seqLen").contains("x: unknown field").contains("is a DATASET, expected a MODEL").contains("'nope'");
    }

    @Test
    void aBadLineFoundWhileRunningIsNamedByTheArtifactNotByItsPathOnTheServer() throws Exception {
        var r = api.call("POST", "/api/v1/evaluations", ADMIN_KEY, """
                {"model": "tiny", "dataset": "no-text", "seqLen": 16}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).isEqualTo(JobStatus.FAILED);
        assertThat(job.error()).contains("'no-text' line 1: needs \"text\" or \"input_ids\"")
                .doesNotContain(dataDir.toAbsolutePath().toString());
    }

    @Test
    void blockPrunerJobPublishesThePrunedModelAndReport() throws Exception {
        var r = api.call("POST", "/api/v1/prunings", ADMIN_KEY, """
                {"model": "tiny", "dataset": "wiki", "name": "tiny-pruned", "method": "blockpruner", "blocks": 2,
                 "samples": 4, "seqLen": 16, "batchSize": 2}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(job.result().get("removedBlocks").size()).isEqualTo(2);
        assertThat(job.checkpoint()).as("the removal state of the last step is the checkpoint").isNotNull();

        ArtifactService artifacts = service.getBean(ArtifactService.class);
        Artifact pruned = artifacts.get(model.tenantId(), UUID.fromString(job.result().get("model").asString()));
        Artifact report = artifacts.get(model.tenantId(), UUID.fromString(job.result().get("report").asString()));
        assertThat(pruned.kind()).isEqualTo(ArtifactKind.MODEL);
        // the default (masked) form keeps a lone removed block's weights, its output projection zeroed
        assertThat(job.result().get("prunedParameters").asLong()).isLessThan(job.result().get("denseParameters").asLong());
        assertThat(pruned.metadata().get("parameterCount").asLong()).isLessThanOrEqualTo(model.metadata().get("parameterCount").asLong());
        assertThat(report.name()).isEqualTo("tiny-pruned-report");
        assertThat(Files.readString(report.singleFile())).contains("blockpruner");
    }

    @Test
    void aResumedPruningJobEndsWhereAnUninterruptedOneDoes() throws Exception {
        String spec = """
                {"model": "tiny", "dataset": "wiki", "name": "%s", "method": "blockpruner", "blocks": 3,
                 "samples": 4, "seqLen": 16, "batchSize": 2}""";
        Job whole = awaitFinal(submit(spec.formatted("whole")));
        assertThat(whole.status()).isEqualTo(JobStatus.SUCCEEDED);

        // a run that stops after its first step, as a worker that died would; its state is the checkpoint
        var firstStep = new java.util.concurrent.atomic.AtomicReference<dev.amalgam.pruning.PruningState>();
        try {
            dev.amalgam.pruning.PruningRunner.run(dev.amalgam.pruning.PruneSpec.fromJson(TestHttp.JSON.readTree(spec.formatted("x")), java.util.Set.of("model", "dataset", "name"), new java.util.ArrayList<>()),
                    model.dir(), dataset.singleFile(), null, dataDir.resolve("partial"), null, new dev.amalgam.pruning.PruningListener() {
                        @Override
                        public void onStep(dev.amalgam.pruning.PruningProgress p) {
                            firstStep.compareAndSet(null, p.state());
                        }

                        @Override
                        public boolean isCancelled() {
                            return firstStep.get() != null;
                        }
                    }, EngineOptions.cpu());
        } catch (dev.amalgam.job.CancelledException expected) {
            // stopped after step 1
        }
        assertThat(firstStep.get().steps()).hasSize(1);

        // the next attempt of a job starts from the checkpoint its predecessor saved
        var jobs = service.getBean(dev.amalgam.platform.job.JobRepository.class);
        var worker = service.getBean(dev.amalgam.platform.worker.WorkerRuntime.class);
        worker.stop();
        UUID resumed;
        try {
            resumed = submit(spec.formatted("resumed"));
            var claimed = jobs.claim(java.util.List.of("prune"), "dead-worker", java.time.Duration.ofMillis(500)).orElseThrow();
            assertThat(claimed.id()).isEqualTo(resumed);
            assertThat(jobs.saveCheckpoint(resumed, "dead-worker", firstStep.get().toJson())).isTrue();
        } finally {
            worker.start();
        }
        Job after = awaitFinal(resumed);
        assertThat(after.status()).as(String.valueOf(after.error())).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(after.attempts()).isEqualTo(2);
        assertThat(service.getBean(JobService.class).events(model.tenantId(), resumed, 0, 500))
                .anyMatch(e -> e.payload().toString().contains("Resuming after step 1"));
        assertThat(after.result().get("removedBlocks")).isEqualTo(whole.result().get("removedBlocks"));
        assertThat(after.result().get("calibrationPerplexityAfter").asDouble())
                .isEqualTo(whole.result().get("calibrationPerplexityAfter").asDouble());
    }

    @Test
    void badPruningSpecsListEveryProblem() throws Exception {
        var r = api.call("POST", "/api/v1/prunings", ADMIN_KEY, """
                {"model": "tiny", "dataset": "nope", "method": "magic", "blocks": 99, "candidates": "heads", "colour": "red"}""");
        String errors = TestHttp.assertProblem(r, 422, "validation-error").get("errors").toString();
        assertThat(errors).contains("magic").contains("heads").contains("colour").contains("'nope'").contains("name");
        var tooMany = api.call("POST", "/api/v1/prunings", ADMIN_KEY, """
                {"model": "tiny", "dataset": "wiki", "name": "x", "blocks": 99}""");
        assertThat(TestHttp.assertProblem(tooMany, 422, "validation-error").get("errors").toString())
                .contains("at most 3 blocks").contains("max_position_embeddings");
    }

    /** The errors of a 422 answer to {@code body} posted to {@code path}. */
    static String problems(String path, String body) throws Exception {
        return TestHttp.assertProblem(api.call("POST", path, ADMIN_KEY, body), 422, "validation-error").get("errors").toString();
    }

    static final String PRUNING = "\"model\": \"tiny\", \"dataset\": \"wiki\", \"blocks\": 2, \"samples\": 4,"
            + " \"seqLen\": 16, \"batchSize\": 2";

    @Test
    void anEvaluationLongerThanTheModelsContextIsAProblem() throws Exception {
        assertThat(problems("/api/v1/evaluations", "{\"model\": \"tiny\", \"dataset\": \"wiki\", \"seqLen\": 2048}"))
                .contains("seqLen: 2048 exceeds the model's max_position_embeddings 256");
        assertThat(problems("/api/v1/evaluations", "{\"model\": \"tiny\", \"dataset\": \"wiki\"}"))
                .as("the default 2048 too").contains("seqLen: 2048 exceeds the model's max_position_embeddings 256");
    }

    @Test
    void outOfRangeNumbersAreProblemsNotServerErrors() throws Exception {
        for (String field : List.of("\"seqLen\": 99999999999999", "\"maxAttempts\": 2147483648", "\"maxAttempts\": 1e400",
                "\"maxAttempts\": -1", "\"priority\": 2147483648", "\"priority\": 101")) {
            String name = field.substring(1, field.indexOf('"', 1));
            assertThat(problems("/api/v1/evaluations", "{\"model\": \"tiny\", \"dataset\": \"wiki\", \"seqLen\": 16, "
                    + field + "}")).as("evaluation " + field).contains(name + ": must be an integer between");
        }
        for (String field : List.of("\"maxAttempts\": 2147483648", "\"maxAttempts\": 1e400", "\"maxAttempts\": -1",
                "\"maxAttempts\": 11", "\"priority\": 2147483648", "\"priority\": -101")) {
            String name = field.substring(1, field.indexOf('"', 1));
            assertThat(problems("/api/v1/prunings", "{" + PRUNING + ", \"name\": \"refused\", " + field + "}"))
                    .as("pruning " + field).contains(name + ": must be an integer between");
        }
        assertThat(problems("/api/v1/prunings", """
                {"model": "tiny", "dataset": "wiki", "name": "refused", "blocks": 2, "samples": 65537, "batchSize": 1025,
                 "seqLen": 99999999999999}"""))
                // the real bound, and the other fields still checked
                .contains("seqLen: must be an integer between 2 and 131072, got 99999999999999")
                .contains("samples: must be an integer between 1 and 65536");
        assertThat(problems("/api/v1/prunings", """
                {"model": "tiny", "dataset": "wiki", "name": "refused", "blocks": 2, "samples": 65537, "batchSize": 1025,
                 "seqLen": 16, "cacheBudgetMb": 262145}"""))
                .contains("samples: must be an integer between 1 and 65536").contains("batchSize: must be an integer between 1 and 1024")
                .contains("cacheBudgetMb: must be an integer between 0 and 262144");
    }

    @Test
    void outputNamesAndTheReportNameFollowTheArtifactNameRules() throws Exception {
        for (String name : List.of("../../etc/passwd", "x".repeat(300), "/abs")) {
            assertThat(problems("/api/v1/prunings", "{" + PRUNING + ", \"name\": \"" + name + "\"}")).as(name)
                    .contains("the name of the pruned model, must be 1-200 characters");
        }
        // 195 characters fit a name, but not "{name}-report"
        assertThat(problems("/api/v1/prunings", "{" + PRUNING + ", \"name\": \"" + "p".repeat(195) + "\"}"))
                .contains("the name of the report, must be 1-200 characters").doesNotContain("the name of the pruned model");
    }

    @Test
    void nulAndUnpairedSurrogatesInStringsAreProblemsNamingTheField() throws Exception {
        assertThat(problems("/api/v1/prunings", "{" + PRUNING + ", \"name\": \"a\\u0000b\"}"))
                .contains("name: must not contain the NUL character");
        assertThat(problems("/api/v1/evaluations", "{\"model\": \"tiny\\u0000\", \"dataset\": \"wiki\", \"seqLen\": 16}"))
                .contains("model: must not contain the NUL character");
        assertThat(problems("/api/v1/evaluations", "{\"model\": \"tiny\", \"dataset\": \"wiki\\ud800\", \"seqLen\": 16}"))
                .contains("dataset: must not contain an unpaired UTF-16 surrogate");
    }

    static UUID submit(String body) throws Exception {
        var r = api.call("POST", "/api/v1/prunings", ADMIN_KEY, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString());
    }

    static Job awaitFinal(UUID id) throws InterruptedException {
        return TestJobs.awaitFinal(service, model.tenantId(), id, Duration.ofSeconds(120));
    }
}
