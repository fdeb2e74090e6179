package dev.amalgam.pruningservice;

import static dev.amalgam.platform.testing.TestApps.ADMIN_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.judge.AlpacaEval;
import dev.amalgam.modelengine.judge.ArenaHard;
import dev.amalgam.modelengine.judge.ChatClient;
import dev.amalgam.modelengine.judge.JudgeTask;
import dev.amalgam.modelengine.judge.MtBench;
import dev.amalgam.modelengine.judge.WinRates;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.ApiKeyService;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.testing.TestApps;
import dev.amalgam.platform.testing.TestDatabase;
import dev.amalgam.platform.testing.TestHttp;
import dev.amalgam.platform.testing.TestJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * Judgments in a comparison through the service's API: the judge library writes the judgments DATASETs (records of
 * the judge job's layout, from canned judge answers), the comparison tables their scores, and the test computes each
 * score by hand from the verdicts it chose.
 */
class ComparisonJudgmentsTest {

    @TempDir
    static Path dataDir;

    static ConfigurableApplicationContext service;
    static TestHttp api;
    static UUID tenant;
    static Artifact base;
    static Artifact fused;
    static List<JsonNode> alpacaRecords;

    @BeforeAll
    static void start() throws Exception {
        service = TestApps.start(PruningServiceApplication.application(), TestDatabase.newDatabase(), dataDir, Map.of());
        api = new TestHttp(TestApps.baseUrl(service));
        TinyModels.write(Architecture.LLAMA, dataDir.resolve("import/base"), TinySizes.defaults(), 3);
        TinyModels.write(Architecture.LLAMA, dataDir.resolve("import/fused"), TinySizes.defaults(), 4);
        ArtifactService artifacts = service.getBean(ArtifactService.class);
        tenant = service.getBean(ApiKeyService.class).authenticate(ADMIN_KEY).orElseThrow().tenantId();
        base = artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "base", "base");
        fused = artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "fused", "fused");

        // MT-Bench: two writing questions, the first with two turns; ratings 8, 5, 6 for base; 9, 7, none for fused
        List<MtBench.Question> questions = List.of(
                new MtBench.Question("81", "writing", List.of("Write a haiku.", "Make it rhyme."), null),
                new MtBench.Question("82", "writing", List.of("Write a limerick."), null));
        write("base-mt.jsonl", judge(MtBench.tasks(questions, Map.of(
                "81", new MtBench.Answer("81", "base", List.of("a", "b")),
                "82", new MtBench.Answer("82", "base", List.of("c"))), Map.of()), "Rating: [[8]]", "[[5]]", "[[6]]"));
        write("fused-mt.jsonl", judge(MtBench.tasks(questions, Map.of(
                "81", new MtBench.Answer("81", "fused", List.of("a", "b")),
                "82", new MtBench.Answer("82", "fused", List.of("c"))), Map.of()), "[[9]]", "[[7]]", "no rating here"));

        // AlpacaEval (the judge's text): four instructions; the judge picks the first output shown, m, or the second, M
        List<AlpacaEval.Output> model = new ArrayList<>();
        List<AlpacaEval.Output> baseline = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            model.add(new AlpacaEval.Output("instruction " + i, "fused answer " + "x".repeat(i * 7), "fused", null));
            baseline.add(new AlpacaEval.Output("instruction " + i, "baseline answer", "gpt-4", null));
        }
        alpacaRecords = judge(AlpacaEval.tasks(model, baseline, AlpacaEval.Mode.TEXT), "m", "M", "M", "m");
        write("fused-ae.jsonl", alpacaRecords);

        // Arena-Hard: question u1 the model wins both games (game 1 B>A, game 2 A>>B), u2 two ties
        List<ArenaHard.Question> arenaQuestions = List.of(new ArenaHard.Question("u1", "hard_prompt", "Prove it."),
                new ArenaHard.Question("u2", "hard_prompt", "Sort this."));
        write("fused-arena.jsonl", judge(ArenaHard.tasks(arenaQuestions,
                Map.of("u1", new ArenaHard.Answer("u1", "fused", "p"), "u2", new ArenaHard.Answer("u2", "fused", "s")),
                Map.of("u1", new ArenaHard.Answer("u1", "gpt-4-0314", "q"), "u2", new ArenaHard.Answer("u2", "gpt-4-0314", "t"))),
                "My verdict: [[B>A]]", "[[A>>B]]", "[[A=B]]", "[[A=B]]"));
        Files.writeString(dataDir.resolve("import/piqa.jsonl"),
                "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 0}\n");
        for (String name : List.of("base-mt", "fused-mt", "fused-ae", "fused-arena", "piqa")) {
            artifacts.importFromRoot(tenant, ArtifactKind.DATASET, name, name + ".jsonl");
        }
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    /** The judge library's records for its tasks, each judged by the next canned answer, in task order. */
    static List<JsonNode> judge(List<JudgeTask> tasks, String... answers) {
        assertThat(tasks).hasSize(answers.length);
        List<JsonNode> records = new ArrayList<>();
        for (int i = 0; i < tasks.size(); i++) {
            records.add(tasks.get(i).record(new ChatClient.Response(answers[i], List.of())));
        }
        return records;
    }

    static void write(String file, List<JsonNode> records) throws Exception {
        StringBuilder out = new StringBuilder();
        records.forEach(r -> out.append(r.toString()).append('\n'));
        Files.createDirectories(dataDir.resolve("import"));
        Files.writeString(dataDir.resolve("import").resolve(file), out.toString());
    }

    @Test
    void judgmentsOnlyTableEachJudgeReportsNumbersAsThePapersPrintThem() throws Exception {
        var r = api.call("POST", "/api/v1/comparisons", ADMIN_KEY, """
                {"models": ["base", "fused"],
                 "judgments": [{"model": "base", "benchmark": "mt_bench", "dataset": "base-mt"},
                               {"model": "fused", "benchmark": "mt_bench", "dataset": "fused-mt"},
                               {"model": "%s", "benchmark": "alpaca_eval", "dataset": "fused-ae"},
                               {"model": "fused", "benchmark": "arena_hard", "dataset": "fused-arena"}],
                 "name": "base-vs-fused"}""".formatted(fused.id()));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        JsonNode result = job.result();

        // MT-Bench: the mean of the ratings read; the unread one is left out
        double mtBase = (8 + 5 + 6) / 3.0;
        double mtFused = (9 + 7) / 2.0;
        // AlpacaEval: the preferences the records hold (the judge's m/M switched back to 1 = baseline, 2 = model)
        List<Double> prefs = new ArrayList<>();
        int[] len1 = new int[4];
        int[] len2 = new int[4];
        for (int i = 0; i < 4; i++) {
            prefs.add(alpacaRecords.get(i).get("preference").doubleValue());
            len1[i] = "baseline answer".length();
            len2[i] = ("fused answer " + "x".repeat(i * 7)).length();
        }
        double wr = prefs.stream().mapToDouble(p -> (p - 1) * 100).average().orElseThrow();
        double lc = WinRates.lengthControlled(prefs, len1, len2).winRate();
        // Arena-Hard: per question game 2's scores from the model's side, then 1 - game 1's; A>>B counts three times
        double[] battles = {1, 1, 1, 1 - 0.0, 0.5, 1 - 0.5};
        double arena = 100 * bootstrapMean(battles);

        assertThat(result.get("columns").isEmpty()).as("no tasks").isTrue();
        assertThat(result.get("judgeColumns").toString()).isEqualTo("[\"alpaca_eval\",\"arena_hard\",\"mt_bench\"]");
        JsonNode rowBase = result.get("rows").get(0);
        JsonNode rowFused = result.get("rows").get(1);
        assertThat(rowBase.get("perplexity").isNull()).isTrue();
        assertThat(rowBase.get("mtBenchScore").asDouble()).isEqualTo(mtBase);
        assertThat(rowBase.get("alpacaEvalWinRate").isNull()).as("base was not judged on AlpacaEval").isTrue();
        assertThat(rowFused.get("mtBenchScore").asDouble()).isEqualTo(mtFused);
        assertThat(rowFused.get("alpacaEvalWinRate").asDouble()).isCloseTo(wr, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(rowFused.get("alpacaEvalLcWinRate").asDouble()).isEqualTo(lc);
        assertThat(rowFused.get("arenaHardScore").asDouble()).isCloseTo(arena, org.assertj.core.data.Offset.offset(1e-9));
        JsonNode arenaDetail = result.get("judgments").get(3).get("arenaHard");
        assertThat(arenaDetail.get("rawScore").asDouble()).isCloseTo(100 * 5 / 6.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(arenaDetail.get("baseline").asString()).isEqualTo("gpt-4-0314");
        assertThat(result.get("judgments").get(1).get("unparsed").asInt()).isEqualTo(1);
        assertThat(result.get("judgments").get(2).get("model").asString()).as("named by id, tabled by name")
                .isEqualTo("fused");

        String md = "| Model | AlpacaEval-2 LC (%) | AlpacaEval-2 WR (%) | Arena-Hard WR (%) | MT-Bench |\n"
                + "| --- | --- | --- | --- | --- |\n"
                + String.format(Locale.ROOT, "| base |  |  |  | %.2f |%n", mtBase)
                + String.format(Locale.ROOT, "| fused | %.2f | %.2f | %.2f | %.2f |%n", lc, wr, arena, mtFused);
        assertThat(result.get("markdown").asString()).isEqualTo(md);
        Artifact report = service.getBean(ArtifactService.class).get(tenant, UUID.fromString(result.get("report").asString()));
        assertThat(report.kind()).isEqualTo(ArtifactKind.REPORT);
        assertThat(Files.readString(report.dir().resolve("report.md"))).isEqualTo(md);
        JsonNode json = TestHttp.JSON.readTree(Files.readString(report.dir().resolve("report.json")));
        assertThat(json.get("rows")).isEqualTo(result.get("rows"));
        assertThat(json.get("judgments")).isEqualTo(result.get("judgments"));
        // the judgments DATASETs are inputs of the job, so the report's lineage reaches them
        String inputs = TestHttp.JSON.readTree(r.body()).get("inputs").toString();
        ArtifactService artifacts = service.getBean(ArtifactService.class);
        for (String name : List.of("base-mt", "fused-mt", "fused-ae", "fused-arena")) {
            List<String> problems = new ArrayList<>();
            assertThat(inputs).contains(artifacts.resolve(tenant, name, ArtifactKind.DATASET, "x", problems).id().toString());
        }
    }

    /** arena-hard-auto's bootstrap, as the docs describe it: 100 resamples with replacement, seeded 0, their mean. */
    static double bootstrapMean(double[] scores) {
        Random random = new Random(0);
        double total = 0;
        for (int b = 0; b < 100; b++) {
            double sum = 0;
            for (int i = 0; i < scores.length; i++) {
                sum += scores[random.nextInt(scores.length)];
            }
            total += sum / scores.length;
        }
        return total / 100;
    }

    @Test
    void badJudgmentsListEveryProblem() throws Exception {
        var r = api.call("POST", "/api/v1/comparisons", ADMIN_KEY, """
                {"models": ["base"],
                 "judgments": [{"model": "fused", "benchmark": "mt_bench", "dataset": "fused-mt"},
                               {"model": "base", "benchmark": "mt_bench", "dataset": "fused-arena"},
                               {"model": "base", "benchmark": "alpaca_eval", "dataset": "piqa"},
                               {"model": "base", "benchmark": "arena_hard", "dataset": "base"},
                               {"model": "base", "benchmark": "mt_bench", "dataset": "base-mt"},
                               {"model": "base", "benchmark": "mmlu", "dataset": "base-mt"}],
                 "name": "bad"}""");
        String errors = TestHttp.assertProblem(r, 422, "validation-error").get("errors").toString();
        assertThat(errors)
                .contains("judgments[0].model: 'fused' is not one of the models compared")
                .contains("judgments[1].benchmark: 'fused-arena' holds arena_hard judgments, not mt_bench")
                .contains("judgments[2].dataset: 'piqa' is not a judge job's judgments: piqa.jsonl line 1: not a judgment record")
                .contains("judgments[3].dataset")
                .contains("judgments[4]: 'base' has a second mt_bench judgment (one per model and benchmark)")
                .contains("judgments[5].benchmark");
    }

    @Test
    void aComparisonWithNeitherEvaluationNorJudgmentsIsAProblem() throws Exception {
        var r = api.call("POST", "/api/v1/comparisons", ADMIN_KEY, "{\"models\": [\"base\"], \"name\": \"empty\"}");
        assertThat(TestHttp.assertProblem(r, 422, "validation-error").get("errors").toString())
                .contains("give a \\\"dataset\\\" (perplexity), \\\"tasks\\\" (multiple choice), or both");
    }

    static Job awaitFinal(UUID id) throws InterruptedException {
        return TestJobs.awaitFinal(service, tenant, id, Duration.ofSeconds(120));
    }
}
