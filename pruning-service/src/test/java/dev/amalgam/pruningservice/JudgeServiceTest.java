package dev.amalgam.pruningservice;

import static dev.amalgam.platform.testing.TestApps.ADMIN_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactRepository;
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
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The judge job through the service's API against a fake OpenAI-compatible judge: the scores, the key (sent, and
 * nowhere stored or logged), and a failing endpoint (FAILED with its status and message, the judgments kept).
 */
@ExtendWith(OutputCaptureExtension.class)
class JudgeServiceTest {

    static final String KEY = "sk-judge-secret-5f2b7c9d1e";

    @TempDir
    static Path dataDir;

    static ConfigurableApplicationContext service;
    static TestHttp api;
    static HttpServer judge;
    static final List<String> authorizations = new CopyOnWriteArrayList<>();
    static final AtomicInteger calls = new AtomicInteger();
    /** The request number from which the fake judge answers 500; 0 for never. */
    static volatile int failFrom;
    static UUID tenant;

    @BeforeAll
    static void start() throws Exception {
        judge = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        judge.createContext("/v1/chat/completions", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            int n = calls.incrementAndGet();
            String reply;
            int status;
            if (failFrom > 0 && n >= failFrom) {
                status = 500;
                reply = "{\"error\": {\"message\": \"judge backend is down\", \"type\": \"server_error\"}}";
            } else {
                // rate the answer by the last "score N" in the prompt
                Matcher m = Pattern.compile("score (\\d+)").matcher(TestHttp.JSON.readTree(body).get("messages").get(1)
                        .get("content").stringValue());
                if (body.contains("alpaca-judge")) {
                    reply = "{\"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"M\"}}]}";
                    byte[] bytes = reply.getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(200, bytes.length);
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(bytes);
                    }
                    return;
                }
                String last = "0";
                while (m.find()) {
                    last = m.group(1);
                }
                status = 200;
                reply = "{\"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"Rating: [["
                        + last + "]]\"}, \"finish_reason\": \"stop\"}]}";
            }
            byte[] bytes = reply.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        judge.start();
        service = TestApps.start(PruningServiceApplication.application(), TestDatabase.newDatabase(), dataDir,
                Map.of("JUDGE_TEST_API_KEY", KEY));
        api = new TestHttp(TestApps.baseUrl(service));
        Files.createDirectories(dataDir.resolve("import"));
        Files.writeString(dataDir.resolve("import/question.jsonl"), """
                {"question_id": 81, "category": "writing", "turns": ["Write a haiku.", "Now make it rhyme."]}
                {"question_id": 111, "category": "math", "turns": ["What is 2+2?", "And 3+3?"], "reference": ["4", "6"]}
                """);
        Files.writeString(dataDir.resolve("import/tiny.jsonl"), """
                {"question_id": 81, "model_id": "tiny", "choices": [{"index": 0, "turns": ["score 6", "score 8"]}]}
                {"question_id": 111, "model_id": "tiny", "choices": [{"index": 0, "turns": ["score 3", "score 10"]}]}
                """);
        ArtifactService artifacts = service.getBean(ArtifactService.class);
        tenant = service.getBean(ApiKeyService.class).authenticate(ADMIN_KEY).orElseThrow().tenantId();
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "mt-questions", "question.jsonl");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "mt-tiny", "tiny.jsonl");
        // AlpacaEval's own format, as the generation job writes it: a JSON list in model_outputs.json
        Files.writeString(dataDir.resolve("import/model_outputs.json"), """
                [{"instruction": "a", "output": "answer a", "generator": "tiny"},
                 {"instruction": "b", "output": "answer b", "generator": "tiny"}]""");
        Files.writeString(dataDir.resolve("import/baseline.json"), """
                [{"instruction": "a", "output": "base a", "generator": "base"},
                 {"instruction": "b", "output": "base b", "generator": "base"}]""");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "alpaca-tiny", "model_outputs.json");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "alpaca-base", "baseline.json");
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
        if (judge != null) {
            judge.stop(0);
        }
    }

    @BeforeEach
    void reset() {
        calls.set(0);
        failFrom = 0;
        authorizations.clear();
    }

    static String spec(String name) {
        return """
                {"benchmark": "mt_bench", "answers": "mt-tiny", "questions": "mt-questions",
                 "judge": {"url": "http://127.0.0.1:%d/v1", "model": "fake-judge", "apiKeyEnv": "JUDGE_TEST_API_KEY"},
                 "requestsPerMinute": 6000, "maxRetries": 1, "timeoutSeconds": 10, "name": "%s"}"""
                .formatted(judge.getAddress().getPort(), name);
    }

    @Test
    void mtBenchJobScoresEveryTurnAndNeverStoresOrLogsTheKey(CapturedOutput output) throws Exception {
        var r = api.call("POST", "/api/v1/judgments", ADMIN_KEY, spec("mt-judged"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        var result = job.result();
        assertThat(result.get("judged").asInt()).isEqualTo(4);
        assertThat(result.get("mtBench").get("overall").asDouble()).isEqualTo((6 + 8 + 3 + 10) / 4.0);
        assertThat(result.get("mtBench").get("turn2").asDouble()).isEqualTo(9.0);
        assertThat(result.get("alpacaEval").isNull()).isTrue();
        assertThat(authorizations).hasSize(4).allMatch(a -> a.equals("Bearer " + KEY));

        Artifact judgments = service.getBean(ArtifactRepository.class).findReadyByName(tenant, "mt-judged").orElseThrow();
        assertThat(judgments.id().toString()).isEqualTo(result.get("judgments").asString());
        assertThat(Files.readAllLines(judgments.singleFile())).hasSize(4);

        List<JobEvent> events = service.getBean(JobService.class).events(tenant, job.id(), 0, 1000);
        assertThat(events).extracting(e -> e.payload().toString()).noneMatch(p -> p.contains(KEY));
        assertThat(events).filteredOn(e -> e.kind() == JobEvent.Kind.PROGRESS).hasSizeGreaterThanOrEqualTo(4);
        assertThat(job.spec().toString()).doesNotContain(KEY).contains("JUDGE_TEST_API_KEY");
        assertThat(result.toString()).doesNotContain(KEY);
        assertThat(Files.readString(judgments.singleFile())).doesNotContain(KEY);
        assertThat(output.getAll()).doesNotContain(KEY);
    }

    @Test
    void alpacaEvalTakesTheJsonListTheGenerationJobWrites() throws Exception {
        var r = api.call("POST", "/api/v1/judgments", ADMIN_KEY, """
                {"benchmark": "alpaca_eval", "answers": "alpaca-tiny", "baseline": "alpaca-base",
                 "judge": {"url": "http://127.0.0.1:%d/v1", "model": "alpaca-judge", "apiKeyEnv": "JUDGE_TEST_API_KEY"},
                 "requestsPerMinute": 6000, "maxRetries": 0, "name": "alpaca-judged"}"""
                .formatted(judge.getAddress().getPort()));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(job.result().get("judged").asInt()).isEqualTo(2);
        // "M" is the output shown second: per instruction that is the model or the baseline, so the rate is a
        // count of halves, and both instructions were judged
        assertThat(job.result().get("alpacaEval").get("winRate").asDouble()).isIn(0.0, 50.0, 100.0);
    }

    @Test
    void aFailingEndpointFailsTheJobWithItsStatusAndMessageAndKeepsWhatWasJudged(CapturedOutput output) throws Exception {
        failFrom = 3; // two judgments, then 500 on every request
        var r = api.call("POST", "/api/v1/judgments", ADMIN_KEY, spec("mt-failing"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).isEqualTo(JobStatus.FAILED);
        assertThat(job.error()).contains("HTTP 500").contains("judge backend is down").contains("mt-failing-partial")
                .contains("2 of 4").doesNotContain(KEY);
        assertThat(calls.get()).isEqualTo(2 + 2); // the failing request and its one retry
        Artifact partial = service.getBean(ArtifactRepository.class).findReadyByName(tenant, "mt-failing-partial").orElseThrow();
        assertThat(job.error()).contains(partial.id().toString());
        assertThat(Files.readAllLines(partial.singleFile())).hasSize(2)
                .allSatisfy(l -> assertThat(l).contains("\"question_id\":\"81\""));
        assertThat(service.getBean(ArtifactRepository.class).findReadyByName(tenant, "mt-failing")).isEmpty();
        assertThat(output.getAll()).doesNotContain(KEY);
    }

    @Test
    void badJudgeSpecsListEveryProblemWithoutEchoingAKey() throws Exception {
        String problems = TestHttp.assertProblem(api.call("POST", "/api/v1/judgments", ADMIN_KEY, """
                {"benchmark": "arena_hard", "answers": "mt-tiny",
                 "judge": {"url": "ftp://example.com", "model": "m", "apiKeyEnv": "DATABASE_PASSWORD", "apiKey": "sk-leak-me"},
                 "maxRetries": 99, "name": "x"}"""), 422, "validation-error").get("errors").toString();
        assertThat(problems).contains("baseline: the baseline's answers are required for arena_hard")
                .contains("questions: the questions file is required for arena_hard")
                .contains("judge.url: must be an http or https URL")
                .contains("judge.apiKeyEnv: must name an environment variable in upper case ending in API_KEY")
                .contains("judge.apiKey: a key is never part of the spec")
                .contains("maxRetries: ")
                .doesNotContain("sk-leak-me");
        String mt = TestHttp.assertProblem(api.call("POST", "/api/v1/judgments", ADMIN_KEY, """
                {"benchmark": "mt_bench", "answers": "mt-questions", "questions": "mt-questions",
                 "judge": {"url": "http://localhost:1/v1", "model": "m"}, "name": "y"}"""), 422, "validation-error")
                .get("errors").toString();
        // the questions file given as answers: its lines have no model_id
        assertThat(mt).contains("answers: question.jsonl line 1: model_id must be a string (missing)");
    }

    static Job awaitFinal(UUID id) throws InterruptedException {
        return TestJobs.awaitFinal(service, tenant, id, Duration.ofSeconds(120));
    }
}
