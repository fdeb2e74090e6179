package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Registered credentials and the judge job on the whole platform ({@code amalgam up}'s), with Amalgam's own serving
 * as the judge: a tiny model is served, a credential holds an Amalgam API key, and judge jobs send every judge request
 * through the gateway's serving URL with it. A random model gives no real verdicts, so the test checks what the
 * product documents for that: MT-Bench's judgments without a rating are counted as unparsed and left out of the means,
 * AlpacaEval's weighted preference is 2 - p(m) / (p(m) + p(M)) of whatever first-token log-probabilities came back.
 */
class JudgeWithServingTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern RATING = Pattern.compile("\\[\\[(\\d+\\.?\\d*)\\]\\]");
    private static final Pattern RATING_BACKUP = Pattern.compile("\\[(\\d+\\.?\\d*)\\]");

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> call(String method, String url, String key, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .header("Accept", "application/json");
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode awaitJob(String base, String key, String id, Predicate<JsonNode> until) throws Exception {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonNode job = JSON.readTree(call("GET", base + "/api/v1/jobs/" + id, key, null).body());
            if (until.test(job)) {
                return job;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("job " + id + " did not get there");
    }

    private static boolean ended(JsonNode job) {
        return List.of("SUCCEEDED", "FAILED", "CANCELLED").contains(job.path("status").asString(""));
    }

    private String importDataset(String base, String key, String name, String path) throws Exception {
        HttpResponse<String> r = call("POST", base + "/api/v1/artifacts/import", key,
                "{\"kind\":\"DATASET\",\"name\":\"" + name + "\",\"path\":\"" + path + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("id").asString();
    }

    /** The last value of the serving's "requests" metric, from its event history. */
    private long servedRequests(String base, String key, String servingId) throws Exception {
        JsonNode events = JSON.readTree(call("GET", base + "/api/v1/jobs/" + servingId + "/events", key, null).body());
        long last = 0;
        for (JsonNode e : events) {
            JsonNode requests = e.path("payload").path("requests");
            if (e.path("kind").asString("").equals("METRIC") && requests.isNumber()) {
                last = requests.asLong();
            }
        }
        return last;
    }

    @Test
    void judgeJobsUseARegisteredCredentialAgainstTheServingAndTheSecretIsInNoJobField() throws Exception {
        Path data = dir.resolve("amalgam-data");
        Path imports = dir.resolve("amalgam-import");
        // long enough a context for the judge prompts (the byte-level tokenizer makes a token of each byte)
        TinyModels.write(Architecture.LLAMA, imports.resolve("models/tiny-judge"),
                new TinySizes(64, 128, 2, 4, 2, 4096, dev.amalgam.modelio.DType.BF16), 5);
        Files.createDirectories(imports.resolve("data"));
        Files.writeString(imports.resolve("data/alpaca-model.jsonl"), """
                {"instruction": "Name a colour.", "output": "Blue.", "generator": "tiny"}
                {"instruction": "Say hello.", "output": "Hello there, friend!", "generator": "tiny"}
                """);
        Files.writeString(imports.resolve("data/alpaca-base.jsonl"), """
                {"instruction": "Name a colour.", "output": "Red, a warm colour.", "generator": "gpt4_turbo"}
                {"instruction": "Say hello.", "output": "Hi.", "generator": "gpt4_turbo"}
                """);
        Files.writeString(imports.resolve("data/mt-questions.jsonl"),
                "{\"question_id\": 81, \"category\": \"writing\", \"turns\": [\"Write a haiku.\", \"Make it rhyme.\"]}\n");
        Files.writeString(imports.resolve("data/mt-answers.jsonl"), "{\"question_id\": 81, \"answer_id\": \"a\", "
                + "\"model_id\": \"tiny\", \"choices\": [{\"index\": 0, \"turns\": [\"Leaves fall.\", \"Leaves fall all.\"]}], "
                + "\"tstamp\": 1}\n");
        // two job threads in the pruning service: the serve job holds one while the judge job runs on the other
        try (LocalPlatform platform = LocalPlatform.start(0, data, imports, Map.of("amalgam.worker.concurrency", "2"))) {
            String base = "http://localhost:" + platform.port();
            String admin = Files.readString(data.resolve("api-key")).trim();
            assertThat(PosixMode.of(data.resolve(LocalPlatform.CREDENTIALS_KEY_FILE))).isEqualTo("rw-------");
            String tenant = JSON.readTree(call("GET", base + "/api/v1/me", admin, null).body()).get("tenantId").asString();
            // the judge's own key of the tenant, registered as a credential
            String judgeKey = JSON.readTree(call("POST", base + "/api/v1/admin/tenants/" + tenant + "/keys", admin,
                    "{\"name\": \"judge\"}").body()).get("secret").asString();

            // credentials: create (201, metadata only), a taken name (409), every problem at once (422)
            HttpResponse<String> created = call("POST", base + "/api/v1/credentials", admin,
                    "{\"name\": \"amalgam-self\", \"secret\": \"" + judgeKey + "\"}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(created.headers().firstValue("Location")).contains("/api/v1/credentials/amalgam-self");
            JsonNode credential = JSON.readTree(created.body());
            assertThat(credential.propertyNames()).containsExactlyInAnyOrder("name", "fingerprint", "createdAt");
            assertThat(credential.get("fingerprint").asString()).matches("sha256:[0-9a-f]{12}");
            assertThat(created.body()).doesNotContain(judgeKey);
            HttpResponse<String> taken = call("POST", base + "/api/v1/credentials", admin,
                    "{\"name\": \"amalgam-self\", \"secret\": \"other\"}");
            assertThat(taken.statusCode()).isEqualTo(409);
            HttpResponse<String> invalid = call("POST", base + "/api/v1/credentials", admin,
                    "{\"name\": \"-bad\", \"secret\": \"two words\", \"owner\": 1}");
            assertThat(invalid.statusCode()).isEqualTo(422);
            assertThat(JSON.readTree(invalid.body()).get("errors")).hasSize(3);
            assertThat(invalid.body()).doesNotContain("two words");
            HttpResponse<String> malformed = call("POST", base + "/api/v1/credentials", admin,
                    "{\"name\": \"x\", \"secret\": sk-unquoted-secret}");
            assertThat(malformed.statusCode()).isEqualTo(400);
            assertThat(malformed.body()).doesNotContain("unquoted");
            HttpResponse<String> listed = call("GET", base + "/api/v1/credentials", admin, null);
            assertThat(JSON.readTree(listed.body())).hasSize(1);
            assertThat(JSON.readTree(listed.body()).get(0)).isEqualTo(credential);
            assertThat(JSON.readTree(call("GET", base + "/api/v1/credentials/amalgam-self", admin, null).body()))
                    .isEqualTo(credential);
            assertThat(call("GET", base + "/api/v1/credentials/nope", admin, null).statusCode()).isEqualTo(404);
            // the gateway's OpenAPI document has the endpoints
            JsonNode docs = JSON.readTree(call("GET", base + "/v3/api-docs", admin, null).body());
            assertThat(docs.get("paths").has("/api/v1/credentials")).isTrue();
            assertThat(docs.get("paths").has("/api/v1/credentials/{name}")).isTrue();

            assertThat(call("POST", base + "/api/v1/artifacts/import", admin,
                    "{\"kind\":\"MODEL\",\"name\":\"tiny-judge\",\"path\":\"models/tiny-judge\"}").statusCode()).isEqualTo(201);
            importDataset(base, admin, "alpaca-model", "data/alpaca-model.jsonl");
            importDataset(base, admin, "alpaca-base", "data/alpaca-base.jsonl");
            importDataset(base, admin, "mt-questions", "data/mt-questions.jsonl");
            importDataset(base, admin, "mt-answers", "data/mt-answers.jsonl");

            // another tenant sees none of it and cannot name it in a judge job
            String other = JSON.readTree(call("POST", base + "/api/v1/admin/tenants", admin, "{\"name\":\"team-b\"}").body())
                    .get("id").asString();
            String otherKey = JSON.readTree(call("POST", base + "/api/v1/admin/tenants/" + other + "/keys", admin,
                    "{\"name\":\"b\"}").body()).get("secret").asString();
            assertThat(JSON.readTree(call("GET", base + "/api/v1/credentials", otherKey, null).body())).isEmpty();
            assertThat(call("GET", base + "/api/v1/credentials/amalgam-self", otherKey, null).statusCode()).isEqualTo(404);
            assertThat(call("DELETE", base + "/api/v1/credentials/amalgam-self", otherKey, null).statusCode()).isEqualTo(404);

            HttpResponse<String> serving = call("POST", base + "/api/v1/servings", admin,
                    "{\"model\": \"tiny-judge\", \"maxTokens\": 2048, \"idleSeconds\": 600}");
            assertThat(serving.statusCode()).as(serving.body()).isEqualTo(202);
            String servingId = JSON.readTree(serving.body()).get("id").asString();
            awaitJob(base, admin, servingId, j -> j.path("progressMessage").asString("").startsWith("serving"));
            String url = base + "/api/v1/servings/" + servingId + "/v1";

            String alpacaSpec = """
                    {"benchmark": "alpaca_eval_weighted", "answers": "alpaca-model", "baseline": "alpaca-base",
                     "judge": {"url": "%s", "model": "tiny-judge", "credential": "amalgam-self"},
                     "requestsPerMinute": 6000, "maxRetries": 0, "timeoutSeconds": 120, "name": "%s"}""";
            HttpResponse<String> refused = call("POST", base + "/api/v1/judgments", otherKey,
                    alpacaSpec.formatted(url, "b-judged"));
            assertThat(refused.statusCode()).isEqualTo(422);
            assertThat(refused.body()).contains("judge.credential: this tenant has no credential named 'amalgam-self'");

            // AlpacaEval, weighted: one request per instruction, max_tokens 1 with the top 5 log-probabilities
            HttpResponse<String> alpaca = call("POST", base + "/api/v1/judgments", admin,
                    alpacaSpec.formatted(url, "alpaca-judged"));
            assertThat(alpaca.statusCode()).as(alpaca.body()).isEqualTo(202);
            String alpacaId = JSON.readTree(alpaca.body()).get("id").asString();
            JsonNode alpacaJob = awaitJob(base, admin, alpacaId, JudgeWithServingTest::ended);
            assertThat(alpacaJob.get("status").asString()).as(alpacaJob.path("error").asString("")).isEqualTo("SUCCEEDED");
            JsonNode alpacaResult = alpacaJob.get("result");
            assertThat(alpacaResult.get("judged").asInt()).isEqualTo(2);
            List<JsonNode> alpacaRecords = judgments(base, admin, alpacaResult.get("judgments").asString());
            assertThat(alpacaRecords).hasSize(2);
            List<Double> preferences = new ArrayList<>();
            for (JsonNode r : alpacaRecords) {
                Double shown = weighted(r.get("top_logprobs"));
                if (shown == null) {
                    assertThat(r.get("preference").isNull()).isTrue();
                } else {
                    double expected = r.get("is_switched_outputs").asBoolean() ? 3 - shown : shown;
                    assertThat(r.get("preference").asDouble()).isCloseTo(expected, offset(1e-12));
                    preferences.add(expected);
                }
            }
            assertThat(alpacaResult.get("unparsed").asInt()).isEqualTo(2 - preferences.size());
            if (preferences.isEmpty()) {
                assertThat(alpacaResult.get("alpacaEval").isNull()).isTrue();
            } else {
                double winRate = preferences.stream().mapToDouble(p -> (p - 1) * 100).average().orElseThrow();
                assertThat(alpacaResult.get("alpacaEval").get("winRate").asDouble()).isCloseTo(winRate, offset(1e-9));
            }

            // MT-Bench: one request per turn; a random model's judgment has no [[rating]]: unparsed, out of the means
            HttpResponse<String> mt = call("POST", base + "/api/v1/judgments", admin, """
                    {"benchmark": "mt_bench", "answers": "mt-answers", "questions": "mt-questions",
                     "judge": {"url": "%s", "model": "tiny-judge", "credential": "amalgam-self"},
                     "requestsPerMinute": 6000, "maxRetries": 0, "timeoutSeconds": 300, "name": "mt-judged"}"""
                    .formatted(url));
            assertThat(mt.statusCode()).as(mt.body()).isEqualTo(202);
            String mtId = JSON.readTree(mt.body()).get("id").asString();
            JsonNode mtJob = awaitJob(base, admin, mtId, JudgeWithServingTest::ended);
            assertThat(mtJob.get("status").asString()).as(mtJob.path("error").asString("")).isEqualTo("SUCCEEDED");
            JsonNode mtResult = mtJob.get("result");
            List<JsonNode> mtRecords = judgments(base, admin, mtResult.get("judgments").asString());
            assertThat(mtRecords).hasSize(2);
            List<Double> ratings = new ArrayList<>();
            for (JsonNode r : mtRecords) {
                Double rating = rating(r.get("judgment").asString());
                assertThat(r.get("score").asDouble()).isEqualTo(rating == null ? -1 : rating);
                if (rating != null) {
                    ratings.add(rating);
                }
            }
            assertThat(mtResult.get("unparsed").asInt()).isEqualTo(2 - ratings.size());
            JsonNode overall = mtResult.get("mtBench").get("overall");
            if (ratings.isEmpty()) {
                assertThat(overall.isNull()).isTrue();
            } else {
                assertThat(overall.asDouble()).isCloseTo(ratings.stream().mapToDouble(d -> d).average().orElseThrow(),
                        offset(1e-9));
            }

            // every judge request reached the serving, and went through the gateway with the credential's key
            long expectedRequests = 4;
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (servedRequests(base, admin, servingId) < expectedRequests && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(servedRequests(base, admin, servingId)).isEqualTo(expectedRequests);

            // the secret is in no job field, event, list or judgments file
            for (String id : List.of(alpacaId, mtId, servingId)) {
                assertThat(call("GET", base + "/api/v1/jobs/" + id, admin, null).body()).doesNotContain(judgeKey);
                assertThat(call("GET", base + "/api/v1/jobs/" + id + "/events", admin, null).body()).doesNotContain(judgeKey);
            }
            assertThat(call("GET", base + "/api/v1/jobs?size=100", admin, null).body()).doesNotContain(judgeKey);
            assertThat(JSON.writeValueAsString(alpacaRecords) + JSON.writeValueAsString(mtRecords)).doesNotContain(judgeKey);
            assertThat(call("GET", base + "/openapi/pruning-service", admin, null).body()).contains("credential");

            // deleted: a new job naming it is refused at submission
            assertThat(call("DELETE", base + "/api/v1/credentials/amalgam-self", admin, null).statusCode()).isEqualTo(204);
            assertThat(call("POST", base + "/api/v1/judgments", admin, alpacaSpec.formatted(url, "alpaca-again"))
                    .statusCode()).isEqualTo(422);
            assertThat(call("POST", base + "/api/v1/jobs/" + servingId + "/cancel", admin, null).statusCode()).isEqualTo(200);
            awaitJob(base, admin, servingId, JudgeWithServingTest::ended);
        }
    }

    private List<JsonNode> judgments(String base, String key, String artifactId) throws Exception {
        HttpResponse<String> file = call("GET", base + "/api/v1/artifacts/" + artifactId + "/files/judgments.jsonl", key, null);
        assertThat(file.statusCode()).isEqualTo(200);
        List<JsonNode> records = new ArrayList<>();
        for (String line : file.body().split("\n")) {
            if (!line.isBlank()) {
                records.add(JSON.readTree(line));
            }
        }
        return records;
    }

    /** AlpacaEval's weighted preference, in shown order, from the first token's top log-probabilities; null without m or M. */
    private static Double weighted(JsonNode top) {
        Double m = null;
        Double bigM = null;
        for (JsonNode t : top) {
            if (t.get("token").asString().equals("m")) {
                m = Math.exp(t.get("logprob").asDouble());
            } else if (t.get("token").asString().equals("M")) {
                bigM = Math.exp(t.get("logprob").asDouble());
            }
        }
        if (m == null && bigM == null) {
            return null;
        }
        double pm = m == null ? 0 : m;
        double pM = bigM == null ? 0 : bigM;
        return 2 - pm / (pm + pM);
    }

    /** FastChat's single-grade rating: the first [[x]], else the first [x]; null when neither. */
    private static Double rating(String judgment) {
        var m = RATING.matcher(judgment);
        if (m.find()) {
            return Double.parseDouble(m.group(1));
        }
        m = RATING_BACKUP.matcher(judgment);
        return m.find() ? Double.parseDouble(m.group(1)) : null;
    }

    /** A file's POSIX permissions as {@code rw-------}. */
    private static final class PosixMode {
        static String of(Path file) throws java.io.IOException {
            return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
        }
    }
}
