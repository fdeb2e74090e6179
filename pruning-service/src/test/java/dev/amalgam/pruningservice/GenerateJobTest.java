package dev.amalgam.pruningservice;

import static dev.amalgam.platform.testing.TestApps.ADMIN_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.answers.AnswerSettings;
import dev.amalgam.modelengine.answers.BenchmarkAnswer;
import dev.amalgam.modelengine.answers.BenchmarkAnswers;
import dev.amalgam.modelengine.answers.BenchmarkFormat;
import dev.amalgam.modelengine.text.TextTokenizer;
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
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** The generate job end to end: benchmark answer files published as DATASETs, their settings, and bad specs. */
class GenerateJobTest {

    @TempDir
    static Path dataDir;

    static ConfigurableApplicationContext service;
    static TestHttp api;
    static Artifact model;
    static ArtifactService artifacts;

    static final String MT_BENCH = """
            {"question_id": 91, "category": "writing", "turns": ["Write a short poem.", "Now a sadder one."]}
            {"question_id": 81, "category": "math", "turns": ["What is 3*4?", "And 3*5?"]}
            """;

    @BeforeAll
    static void start() throws Exception {
        service = TestApps.start(PruningServiceApplication.application(), TestDatabase.newDatabase(), dataDir, Map.of());
        api = new TestHttp(TestApps.baseUrl(service));
        TinyModels.write(Architecture.LLAMA, dataDir.resolve("import/m"), TinySizes.defaults(), 7);
        Files.writeString(dataDir.resolve("import/question.jsonl"), MT_BENCH);
        Files.writeString(dataDir.resolve("import/alpaca_eval.json"), """
                [{"instruction": "Name a fruit.", "output": "An apple.", "generator": "ref", "dataset": "helpful_base"},
                 {"instruction": "Say hi.", "dataset": "oasst"}]""");
        Files.writeString(dataDir.resolve("import/bad.jsonl"), """
                {"question_id": 1, "category": "math", "turns": ["ok"]}
                {"question_id": 2, "turns": ["no category"]}
                """);
        artifacts = service.getBean(ArtifactService.class);
        UUID tenant = service.getBean(ApiKeyService.class).authenticate(ADMIN_KEY).orElseThrow().tenantId();
        model = artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "tiny", "m");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "mt-questions", "question.jsonl");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "alpaca-set", "alpaca_eval.json");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "bad-questions", "bad.jsonl");
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void mtBenchJobPublishesFastChatsAnswerFileWithTheLibrarysAnswersAndRecordsItsSettings() throws Exception {
        Job job = submit("""
                {"model": "tiny", "questions": "mt-questions", "format": "mt_bench", "name": "tiny-mt",
                 "maxNewTokens": 6, "choices": 2, "seed": 5, "batchSize": 3}""");
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        JsonNode result = job.result();
        assertThat(result.get("format").asString()).isEqualTo("mt_bench");
        assertThat(result.get("modelId").asString()).isEqualTo("tiny");
        assertThat(result.get("file").asString()).isEqualTo("tiny.jsonl");
        assertThat(result.get("questions").asInt()).isEqualTo(2);
        assertThat(result.get("generatedAnswers").asInt()).isEqualTo(8); // 2 questions x 2 choices x 2 turns
        JsonNode settings = result.get("settings");
        assertThat(settings.get("maxNewTokens").asInt()).isEqualTo(6);
        assertThat(settings.get("temperature").isNull()).as("the benchmark chose").isTrue();
        assertThat(settings.get("temperatures").get("writing").asDouble()).isEqualTo(0.7);
        assertThat(settings.get("temperatures").get("math").asDouble()).isEqualTo(0.0);
        assertThat(settings.get("topK").asInt()).as("transformers' default").isEqualTo(50);
        assertThat(settings.get("topP").asDouble()).isEqualTo(1.0);
        assertThat(settings.get("seed").asLong()).isEqualTo(5);
        assertThat(settings.get("chatTemplateSha256").asString()).hasSize(64);

        Artifact answers = artifacts.get(model.tenantId(), UUID.fromString(result.get("answers").asString()));
        assertThat(answers.kind()).isEqualTo(ArtifactKind.DATASET);
        assertThat(answers.name()).isEqualTo("tiny-mt");
        assertThat(answers.producingJobId()).isEqualTo(job.id());
        assertThat(answers.singleFile().getFileName().toString()).isEqualTo("tiny.jsonl");
        List<String> lines = Files.readAllLines(answers.singleFile());
        assertThat(lines).hasSize(2);

        // the same questions answered by the library directly, in a different batch size
        List<BenchmarkAnswer> expected;
        try (TextTokenizer tok = TextTokenizer.load(model.dir()); LlamaModel m = CheckpointLoader.load(model.dir(), EngineOptions.cpu())) {
            expected = BenchmarkAnswers.generate(m, tok, BenchmarkFormat.MT_BENCH,
                    BenchmarkFormat.MT_BENCH.load(dataDir.resolve("import/question.jsonl"), null),
                    new AnswerSettings(6, null, 1.0, 50, 5, 2, null, 1), (d, t) -> { });
        }
        // sorted by question_id: 81 (math, the file's second) first
        for (int line = 0; line < 2; line++) {
            JsonNode row = TestHttp.JSON.readTree(lines.get(line));
            BenchmarkAnswer want = expected.get(1 - line);
            assertThat(row.get("question_id").asInt()).isEqualTo(line == 0 ? 81 : 91);
            assertThat(row.get("model_id").asString()).isEqualTo("tiny");
            assertThat(row.get("answer_id").asString()).hasSize(22);
            assertThat(row.get("tstamp").asDouble()).isGreaterThan(1.7e9);
            for (int c = 0; c < 2; c++) {
                JsonNode turns = row.get("choices").get(c).get("turns");
                assertThat(row.get("choices").get(c).get("index").asInt()).isEqualTo(c);
                assertThat(turns.get(0).asString()).isEqualTo(want.choices().get(c).get(0).text());
                assertThat(turns.get(1).asString()).isEqualTo(want.choices().get(c).get(1).text());
            }
            assertThat(row.get("generate_params").get("temperature").asDouble()).isEqualTo(line == 0 ? 0.0 : 0.7);
            assertThat(row.get("generate_params").get("do_sample").asBoolean()).isEqualTo(line != 0);
        }
    }

    @Test
    void alpacaEvalJobReadsTheJsonEvalSetAndWritesModelOutputs() throws Exception {
        Job job = submit("""
                {"model": "tiny", "questions": "alpaca-set", "format": "alpaca_eval", "name": "tiny-alpaca",
                 "modelId": "tiny-chat-v1", "maxNewTokens": 4, "temperature": 0}""");
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(job.result().get("file").asString()).isEqualTo("model_outputs.json");
        assertThat(job.result().get("settings").get("temperature").asDouble()).isEqualTo(0.0);
        Artifact answers = artifacts.get(model.tenantId(), UUID.fromString(job.result().get("answers").asString()));
        JsonNode all = TestHttp.JSON.readTree(Files.readString(answers.singleFile()));
        assertThat(all).hasSize(2);
        assertThat(all.get(0).get("instruction").asString()).isEqualTo("Name a fruit.");
        assertThat(all.get(0).get("generator").asString()).isEqualTo("tiny-chat-v1");
        assertThat(all.get(0).get("dataset").asString()).isEqualTo("helpful_base");
        assertThat(all.get(0).get("output").asString()).as("the model's, not the reference").isNotEqualTo("An apple.");
        assertThat(all.get(1).get("instruction").asString()).isEqualTo("Say hi.");
        assertThat(all.get(1).get("dataset").asString()).isEqualTo("oasst");
    }

    @Test
    void badGenerateSpecsListEveryProblem() throws Exception {
        String errors = problems("""
                {"model": "mt-questions", "questions": "nope", "format": "humaneval", "name": "x", "modelId": "a/b",
                 "topP": 0, "maxNewTokens": 0, "bogus": 1}""");
        assertThat(errors).contains("model: artifact 'mt-questions' is a DATASET, expected a MODEL")
                .contains("questions: no artifact 'nope'")
                .contains("format: must be one of mt_bench, alpaca_eval, arena_hard")
                .contains("modelId: must be 1-200 letters")
                .contains("topP: must be greater than 0")
                .contains("maxNewTokens: must be an integer between 1 and")
                .contains("bogus: unknown field");
        assertThat(problems("""
                {"model": "tiny", "questions": "bad-questions", "format": "mt_bench", "name": "y"}"""))
                .contains("questions: bad.jsonl line 2 (mt_bench): category: must be a string (missing)");
        assertThat(problems("""
                {"model": "tiny", "questions": "alpaca-set", "format": "alpaca_eval", "name": "z", "choices": 2}"""))
                .contains("choices: only mt_bench answer files hold several choices");
        assertThat(problems("""
                {"model": "tiny", "questions": "alpaca-set", "format": "mt_bench", "name": "tiny"}"""))
                .as("questions in another benchmark's layout, and a taken name")
                .contains("questions: alpaca_eval.json line 1: not JSON")
                .contains("name: an artifact named 'tiny' already exists");
    }

    @Test
    void aModelWithoutAChatTemplateIsAProblem() throws Exception {
        Path dir = Files.createTempDirectory("no-template");
        TinyModels.write(Architecture.LLAMA, dir, TinySizes.defaults(), 1);
        Path config = dir.resolve("tokenizer_config.json");
        JsonNode c = TestHttp.JSON.readTree(Files.readString(config));
        ((tools.jackson.databind.node.ObjectNode) c).remove("chat_template");
        Files.writeString(config, c.toString());
        assertThat(GenerateJobType.chatTemplateProblem(dir)).startsWith("has no chat template");
        assertThat(GenerateJobType.chatTemplateProblem(dataDir.resolve("import/m"))).isNull();
        Files.writeString(dir.resolve("chat_template.jinja"), "{{ messages[0]['content'] }}");
        assertThat(GenerateJobType.chatTemplateProblem(dir)).as("a chat_template.jinja file is a template too").isNull();
    }

    private static Job submit(String body) throws Exception {
        var r = api.call("POST", "/api/v1/generations", ADMIN_KEY, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        UUID id = UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString());
        JobService jobs = service.getBean(JobService.class);
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (System.nanoTime() < deadline) {
            Job job = jobs.get(model.tenantId(), id);
            if (job.status().isFinal()) {
                return job;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("job " + id + " did not finish");
    }

    private static String problems(String body) throws Exception {
        return TestHttp.assertProblem(api.call("POST", "/api/v1/generations", ADMIN_KEY, body), 422, "validation-error")
                .get("errors").toString();
    }
}
