package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.amalgam.modelio.Json;
import dev.amalgam.pruningservice.JudgeJobType;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** {@code amalgam judge} against a fake OpenAI-compatible judge: the printed result, and a failing endpoint. */
class JudgeCommandTest {

    @TempDir
    Path dir;

    HttpServer server;
    final AtomicInteger calls = new AtomicInteger();
    volatile int failFrom;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", exchange -> {
            JsonNode body = Json.MAPPER.readTree(exchange.getRequestBody().readAllBytes());
            String user = body.get("messages").get(1).get("content").stringValue();
            int n = calls.incrementAndGet();
            int status = failFrom > 0 && n >= failFrom ? 503 : 200;
            // the judge prefers the model's answer strongly, in both positions
            boolean modelIsA = user.indexOf("MODEL") < user.indexOf("BASE");
            String reply = status == 503 ? "{\"error\": {\"message\": \"no capacity\"}}"
                    : "{\"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"Final: "
                    + (modelIsA ? "[[A>>B]]" : "[[B>>A]]") + "\"}}]}";
            byte[] bytes = reply.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        Files.writeString(dir.resolve("question.jsonl"), """
                {"uid": "a", "category": "arena-hard-v0.1", "prompt": "Say hi."}
                {"uid": "b", "category": "arena-hard-v0.1", "prompt": "Say bye."}
                """);
        Files.writeString(dir.resolve("model.jsonl"), """
                {"uid": "a", "model": "tiny", "messages": [{"role": "assistant", "content": {"answer": "MODEL hi"}}]}
                {"uid": "b", "model": "tiny", "messages": [{"role": "assistant", "content": {"answer": "MODEL bye"}}]}
                """);
        Files.writeString(dir.resolve("base.jsonl"), """
                {"uid": "a", "model": "gpt-4-0314", "messages": [{"role": "assistant", "content": {"answer": "BASE hi"}}]}
                {"uid": "b", "model": "gpt-4-0314", "messages": [{"role": "assistant", "content": {"answer": "BASE bye"}}]}
                """);
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    CliCommandsTest.Run judge(Path out) {
        return CliCommandsTest.run("judge", "--benchmark", "arena_hard", "--questions", dir.resolve("question.jsonl").toString(),
                "--answers", dir.resolve("model.jsonl").toString(), "--baseline", dir.resolve("base.jsonl").toString(),
                "--url", "http://127.0.0.1:" + server.getAddress().getPort() + "/v1", "--judge-model", "fake",
                "--rpm", "60000", "--max-retries", "0", "--out", out.toString(), "--work-dir", dir.resolve("work").toString());
    }

    @Test
    void judgePrintsTheArenaHardScoreAndWritesTheJudgments() throws Exception {
        Path out = dir.resolve("judged");
        CliCommandsTest.Run r = judge(out);
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = Json.MAPPER.readTree(r.out());
        ApiSchemasTest.assertMatchesResultSchema(new JudgeJobType(), json);
        // every battle is a strong model win: all scores 1
        assertThat(json.get("arenaHard").get("score").asDouble()).isEqualTo(100.0);
        assertThat(json.get("arenaHard").get("battles").asInt()).isEqualTo(12);
        assertThat(Files.readAllLines(out.resolve("judgments.jsonl"))).hasSize(4);
        assertThat(r.err()).contains("judging");
    }

    @Test
    void aFailingEndpointExitsWithItsStatusAndLeavesTheJudgmentsMade() throws Exception {
        failFrom = 4;
        Path out = dir.resolve("judged");
        CliCommandsTest.Run r = judge(out);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("HTTP 503").contains("no capacity").contains("3 of 4");
        assertThat(Files.readAllLines(out.resolve("judgments.jsonl"))).hasSize(3);
        // the work directory keeps them: a rerun with a healthy endpoint and a new --out judges only the last one
        failFrom = 0;
        calls.set(0);
        CliCommandsTest.Run again = judge(dir.resolve("judged-2"));
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(calls.get()).isEqualTo(1);
        assertThat(Files.readAllLines(dir.resolve("judged-2/judgments.jsonl"))).hasSize(4);
    }
}
