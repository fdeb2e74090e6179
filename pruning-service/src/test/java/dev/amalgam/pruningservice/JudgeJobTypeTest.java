package dev.amalgam.pruningservice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import com.sun.net.httpserver.HttpServer;
import dev.amalgam.job.Progress;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.jobtype.InvalidJobSpecException;
import dev.amalgam.platform.jobtype.LocalJobs;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The judge job type run locally (as the CLI runs it) against a fake judge: AlpacaEval's result, the key's lookup. */
class JudgeJobTypeTest {

    @TempDir
    Path dir;

    HttpServer server;
    final List<String> authorizations = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", exchange -> {
            JsonNode body = Json.MAPPER.readTree(exchange.getRequestBody().readAllBytes());
            authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            String user = body.get("messages").get(1).get("content").stringValue();
            // the output with LONG in it wins, whichever position it is shown in ("m" is the first shown)
            int first = user.indexOf("\"output\": \"\"\"");
            int second = user.indexOf("\"output\": \"\"\"", first + 1);
            int longAt = user.indexOf("LONG");
            String verdict = longAt < 0 ? "neither" : longAt < second ? "m" : "M";
            byte[] bytes = ("{\"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"" + verdict
                    + "\"}}]}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    JsonNode spec(String apiKeyEnv) {
        return Json.MAPPER.readTree("""
                {"benchmark": "alpaca_eval", "answers": "%s", "baseline": "%s",
                 "judge": {"url": "http://127.0.0.1:%d/v1", "model": "fake"%s},
                 "requestsPerMinute": 60000, "maxRetries": 0, "name": "judged"}"""
                .formatted(dir.resolve("model.json"), dir.resolve("base.json"), server.getAddress().getPort(),
                        apiKeyEnv == null ? "" : ", \"apiKeyEnv\": \"" + apiKeyEnv + "\""));
    }

    void writeOutputs() throws Exception {
        // the model is longer on "a" and "b" (wins), shorter on "c" (loses); "tie" gets no preference
        Files.writeString(dir.resolve("model.json"), """
                [{"instruction": "a", "output": "LONG answer a", "generator": "tiny"},
                 {"instruction": "b", "output": "LONG answer b", "generator": "tiny"},
                 {"instruction": "c", "output": "short", "generator": "tiny"},
                 {"instruction": "tie", "output": "short", "generator": "tiny"}]""");
        Files.writeString(dir.resolve("base.json"), """
                [{"instruction": "a", "output": "short", "generator": "gpt4_turbo"},
                 {"instruction": "b", "output": "short", "generator": "gpt4_turbo"},
                 {"instruction": "c", "output": "LONG baseline c", "generator": "gpt4_turbo"},
                 {"instruction": "tie", "output": "short", "generator": "gpt4_turbo"}]""");
    }

    @Test
    void alpacaEvalResultHasTheWinRatesAndTheKeyComesFromTheNamedVariable() throws Exception {
        writeOutputs();
        JudgeJobType type = new JudgeJobType(Map.of("FAKE_API_KEY", "sk-local-1")::get);
        JsonNode result = LocalJobs.run(type, spec("FAKE_API_KEY"), Path.of(""), dir.resolve("out"), dir.resolve("work"),
                Progress.NONE);
        JsonNode a = result.get("alpacaEval");
        // preferences 2, 2, 1 and one without: win rate 2/3, no draws
        assertThat(a.get("winRate").asDouble()).isCloseTo(200.0 / 3, offset(1e-9));
        assertThat(a.get("nWins").asInt()).isEqualTo(2);
        assertThat(a.get("nWinsBase").asInt()).isEqualTo(1);
        assertThat(a.get("nTotal").asInt()).isEqualTo(3);
        assertThat(a.get("model").asString()).isEqualTo("tiny");
        assertThat(a.get("baseline").asString()).isEqualTo("gpt4_turbo");
        // the judge always prefers the longer output: the length term takes the preference, the LC rate falls
        assertThat(a.get("lcLengthTerm").asDouble()).isNegative();
        assertThat(a.get("lengthControlledWinRate").asDouble()).isLessThan(a.get("winRate").asDouble());
        assertThat(result.get("unparsed").asInt()).isEqualTo(1);
        assertThat(result.get("judged").asInt()).isEqualTo(4);
        assertThat(result.get("mtBench").isNull()).isTrue();
        assertThat(authorizations).hasSize(4).allMatch("Bearer sk-local-1"::equals);
        assertThat(Files.readAllLines(dir.resolve("out/judgments.jsonl"))).hasSize(4);
    }

    @Test
    void anUnsetKeyVariableFailsBeforeAnyRequestAndNoKeyVariableSendsNoAuthorization() throws Exception {
        writeOutputs();
        assertThatThrownBy(() -> LocalJobs.run(new JudgeJobType(name -> null), spec("FAKE_API_KEY"), Path.of(""),
                dir.resolve("out"), dir.resolve("work"), Progress.NONE))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("FAKE_API_KEY is not set");
        assertThat(authorizations).isEmpty();
        LocalJobs.run(new JudgeJobType(name -> null), spec(null), Path.of(""), dir.resolve("out2"), dir.resolve("work2"),
                Progress.NONE);
        assertThat(authorizations).hasSize(4).allMatch("null"::equals);
    }

    @Test
    void aSpecWithTheWrongFilesForItsBenchmarkListsEveryProblem() throws Exception {
        writeOutputs();
        JsonNode spec = Json.MAPPER.readTree("""
                {"benchmark": "mt_bench", "answers": "%s", "baseline": "%s", "questions": "%s", "references": "%s",
                 "judge": {"url": "http://127.0.0.1:1/v1", "model": "fake"}, "requestsPerMinute": 0, "name": "x"}"""
                .formatted(dir.resolve("model.json"), dir.resolve("base.json"), dir.resolve("nope.jsonl"),
                        dir.resolve("base.json")));
        assertThatThrownBy(() -> LocalJobs.validate(new JudgeJobType(), spec, Path.of("")))
                .isInstanceOfSatisfying(InvalidJobSpecException.class, e -> assertThat(e.problems())
                        .anyMatch(p -> p.startsWith("baseline: mt_bench grades single answers"))
                        .anyMatch(p -> p.startsWith("questions:") && p.contains("nope.jsonl"))
                        .anyMatch(p -> p.startsWith("requestsPerMinute:")));
    }

    @Test
    void aCredentialAndAKeyVariableTogetherOrAKeyInTheSpecAreRefusedWithoutRepeatingTheKey() throws Exception {
        writeOutputs();
        JsonNode spec = Json.MAPPER.readTree("""
                {"benchmark": "alpaca_eval", "answers": "%s", "baseline": "%s",
                 "judge": {"url": "http://127.0.0.1:1/v1", "model": "fake", "apiKeyEnv": "FAKE_API_KEY",
                           "credential": "judge-key", "secret": "sk-in-the-spec"}, "name": "x"}"""
                .formatted(dir.resolve("model.json"), dir.resolve("base.json")));
        assertThatThrownBy(() -> LocalJobs.validate(new JudgeJobType(), spec, Path.of("")))
                .isInstanceOfSatisfying(InvalidJobSpecException.class, e -> {
                    assertThat(e.problems()).anyMatch(p -> p.startsWith("judge.credential: name either"))
                            .anyMatch(p -> p.startsWith("judge.secret: a key is never part of the spec"));
                    assertThat(String.join(" ", e.problems())).doesNotContain("sk-in-the-spec");
                });
    }

    @Test
    void aCredentialCannotBeUsedOutsideThePlatform() throws Exception {
        writeOutputs();
        JsonNode spec = Json.MAPPER.readTree("""
                {"benchmark": "alpaca_eval", "answers": "%s", "baseline": "%s",
                 "judge": {"url": "http://127.0.0.1:1/v1", "model": "fake", "credential": "judge-key"}, "name": "x"}"""
                .formatted(dir.resolve("model.json"), dir.resolve("base.json")));
        assertThatThrownBy(() -> LocalJobs.validate(new JudgeJobType(), spec, Path.of("")))
                .isInstanceOfSatisfying(InvalidJobSpecException.class, e -> assertThat(e.problems())
                        .containsExactly("judge.credential: registered credentials exist on the platform only (POST "
                                + "/api/v1/credentials); here, name an environment variable instead"));
        JsonNode badName = Json.MAPPER.readTree(spec.toString().replace("judge-key", "no spaces allowed"));
        assertThatThrownBy(() -> LocalJobs.validate(new JudgeJobType(), badName, Path.of("")))
                .isInstanceOfSatisfying(InvalidJobSpecException.class, e -> assertThat(e.problems())
                        .anyMatch(p -> p.startsWith("judge.credential: must be the name of a registered credential")));
    }
}
