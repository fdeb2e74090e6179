package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A bounded fuzz of the whole HTTP API through the gateway: several hundred malformed requests, generated
 * from a fixed seed, across every endpoint and method. None may answer 5xx; every error is RFC 9457
 * problem+json that names no Java class and no server path; the platform is healthy afterwards.
 *
 * <p>Requests go over a raw socket, so they can be what no HTTP client library would send: invalid
 * percent-encoding, raw non-UTF-8 bytes, broken framing, TRACE.
 */
class HttpFuzzTest {

    private static final long SEED = 20_240_611L;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Values of the wrong type or out of every range, as raw JSON (some deliberately not JSON at all). */
    private static final List<String> BAD_VALUES = List.of(
            "123", "-1", "0", "1.5", "-2147483649", "9223372036854775808", "1e400", "-1e400", "4.9e-325", "NaN",
            "Infinity", "-0", "true", "null", "\"\"", "\"   \"", "\"BOGUS\"", "[]", "{}", "[1,\"a\",null]",
            "{\"a\":{\"b\":[]}}", nested("[", "]", 200), nested("{\"a\":", "}", 200), "\"" + "x".repeat(65_536) + "\"",
            "\"../../../etc/passwd\"", "\"/etc/passwd\"", "\"00000000-0000-0000-0000-000000000000\"",
            "\"\u00e9\u4e2d\ud83d\ude00\"", "\"\\u001b[31m\\r\\n\"", "\"\\udfff\\ud800\"");

    @TempDir
    Path dir;

    /** Every choice the fuzz makes comes from here, so a failing case comes back on every run. */
    private final Random random = new Random(SEED);
    private int port;
    private final List<String> keys = new ArrayList<>();
    private int nextKey;
    private final List<String> failures = new ArrayList<>();
    private final Map<String, Integer> casesPerCategory = new TreeMap<>();
    private final Map<Integer, Integer> answersPerStatus = new TreeMap<>();
    private final List<Timing> timings = new ArrayList<>();
    private final ExecutorService writer = Executors.newSingleThreadExecutor();
    /** What no answer may contain: Java class names and the server's own paths. */
    private final List<String> leakMarkers = new ArrayList<>(List.of("java.", "dev.amalgam.", "Exception"));

    private record Timing(long millis, String what) {
    }

    @Test
    void malformedRequestsToEveryEndpointAnswerProblemsAndLeaveThePlatformHealthy() throws Exception {
        long started = System.nanoTime();
        Path data = dir.resolve("amalgam-data");
        Path imports = dir.resolve("amalgam-import");
        Files.createDirectories(imports);
        Files.writeString(imports.resolve("d.jsonl"), "{\"text\":\"hello world\"}\n{\"text\":\"more text\"}\n");
        Files.writeString(imports.resolve("prefs.jsonl"), "{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}\n");
        TinyModels.write(Architecture.LLAMA, imports.resolve("tiny"), TinySizes.defaults(), 1);
        leakMarkers.add(data.toAbsolutePath().toString());
        leakMarkers.add(imports.toAbsolutePath().toString());
        leakMarkers.add(dir.toAbsolutePath().toString());
        try (LocalPlatform platform = LocalPlatform.start(0, data, imports)) {
            port = platform.port();
            long platformUp = System.nanoTime();
            setUp(Files.readString(data.resolve("api-key")).trim());
            protocol();
            authorization();
            paging();
            badIds();
            contentTypes();
            bodies();
            largeBodies();
            yaml();
            uploads();
            afterwardsThePlatformIsHealthy();
            int total = casesPerCategory.values().stream().mapToInt(Integer::intValue).sum();
            System.out.printf("HTTP fuzz: %d cases in %.1f s (platform start %.1f s), seed %d%n  per category: %s%n"
                            + "  answers per status: %s%n  failures: %d%n", total, (System.nanoTime() - platformUp) / 1e9,
                    (platformUp - started) / 1e9, SEED, casesPerCategory, answersPerStatus, failures.size());
            timings.stream().sorted(java.util.Comparator.comparingLong(Timing::millis).reversed()).limit(5)
                    .forEach(t -> System.out.printf("  slowest: %d ms %s%n", t.millis(), t.what()));
            failures.forEach(f -> System.out.println("  FAIL " + f));
            assertThat(total).isGreaterThan(300);
            assertThat(failures).isEmpty();
        } finally {
            writer.shutdownNow();
        }
    }

    // ---- the cases -------------------------------------------------------------------------------------------

    /** Requests Tomcat refuses or answers itself, before Spring's dispatcher: all must still be problem+json. */
    private void protocol() {
        String c = "protocol";
        for (String path : List.of("/", "/api/v1/jobs", "/actuator/health", "/api/v1/merges")) {
            send(c, request("TRACE", path).auth().expect(405));
        }
        send(c, request("OPTIONS", "/api/v1/jobs").auth());
        send(c, request("OPTIONS", "*"));
        for (String method : List.of("PATCH", "PUT", "DELETE", "FOO", "PROPFIND", "GET\u00ff")) {
            send(c, request(method, "/api/v1/jobs").auth());
        }
        send(c, request("PUT", "/api/v1/artifacts/" + uuid()).auth());
        send(c, request("HEAD", "/api/v1/jobs/not-a-uuid").auth());
        send(c, request("HEAD", "/api/v1/jobs"));
        send(c, request("GET", "/api/v1/merges").auth());
        send(c, request("DELETE", "/api/v1/fusions").auth());
        send(c, request("PUT", "/api/v1/evaluations").auth());
        send(c, request("GET", "/api/v1/prunings/whatever").auth());
        send(c, request("POST", "/actuator/health"));
        send(c, request("POST", "/openapi/merge-service"));
        for (String path : List.of("%", "/%", "/api/v1/jobs/%ZZ", "/api/v1/jobs/%", "/api/v1/jobs/%E0%A4%A",
                "/api/v1/jobs/%C0%AF", "/api/v1/jobs/%ED%A0%80", "/api/v1/jobs/%FF%FE", "/api/v1/artifacts/a%2Fb",
                "/api/v1/artifacts%2F", "/api/v1/jobs%5C..%5C", "/api/v1/jobs;x=y", "/api/v1;/jobs",
                "/api/v1/jobs/..;/..;/actuator/health", "/..%2F..%2Fetc%2Fpasswd", "/../../etc/passwd", "//api//v1//jobs",
                "/api/v1/jobs/%00", "/api/v1/jobs?page=%ZZ", "/api/v1/jobs?%", "/api/v1/jobs?page=%FF%FE",
                "/api/v1/jobs/\u00ff\u00fe", "/api/v1/jobs?status=\u00ff", "/api/v1/jobs/{id}", "/api/v1/jobs/a|b",
                "/api/v1/jobs/<script>", "/api/v1/jobs#fragment", "http://localhost/api/v1/jobs", "api/v1/jobs", "*",
                "/api/v1/jobs/\u0001", "/actuator/%2e%2e/api/v1/jobs", "/openapi/%ZZ", "/v3/api-docs/%ZZ",
                "/swagger-ui/%ZZ", "/nowhere")) {
            send(c, request("GET", path).auth());
        }
        send(c, request("POST", "/api/v1/merges?x=%ZZ").auth().json("{}"));
        send(c, request("POST", "/api/v1/fusions?x=%FF").auth().json("{}"));
        send(c, request("GET", "/openapi/merge-service?%ZZ"));
        send(c, request("GET", "/v3/api-docs?%ZZ"));
        send(c, request("GET", "/actuator/health?%ZZ"));
        send(c, request("GET", "/api/v1/jobs/" + "a".repeat(100_000)).auth());
        send(c, request("GET", "/api/v1/jobs?type=" + "b".repeat(10_000)).auth());
        send(c, request("GET", "/api/v1/jobs").auth().header("X-Long", "v".repeat(20_000)));
        Request many = request("GET", "/api/v1/jobs").auth();
        for (int i = 0; i < 200; i++) {
            many.header("X-Many-" + i, "v");
        }
        send(c, many);
        send(c, request("GET", "/api/v1/jobs").auth().header("Bad Name", "x"));
        send(c, request("GET", "/api/v1/jobs").auth().header("X-Control", "a\u0001b"));
        send(c, request("GET", "/api/v1/jobs").auth().header("X-Folded", "a\r\n folded"));
        send(c, raw("GET /api/v1/jobs HTTP/1.1\r\nConnection: close\r\n\r\n"));
        send(c, raw("GET /api/v1/jobs HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"));
        send(c, raw("GET /api/v1/jobs HTTP/1.1\r\nHost: localhost\r\nNoColon\r\nConnection: close\r\n\r\n"));
        send(c, raw("GET /actuator/health HTTP/1.0\r\n\r\n"));
        send(c, raw("GET /actuator/health HTTP/2.0\r\nHost: localhost\r\nConnection: close\r\n\r\n").expect(400));
        send(c, raw("GET /actuator/health HTTP/1.1 extra\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        send(c, raw("GARBAGE\r\n\r\n"));
        send(c, raw("\u0000\u0001\u0002\u00ff\r\n\r\n"));
        send(c, request("POST", "/api/v1/merges").auth().header("Content-Type", "application/json")
                .header("Content-Length", "abc").noContentLength().body("{}"));
        send(c, request("POST", "/api/v1/merges").auth().header("Content-Type", "application/json")
                .header("Content-Length", "-1").noContentLength().body("{}"));
        send(c, request("POST", "/api/v1/merges").auth().header("Content-Type", "application/json")
                .header("Content-Length", "2").noContentLength().body("{}{}{}{}"));
        send(c, request("POST", "/api/v1/merges").auth().header("Content-Type", "application/json")
                .header("Content-Length", "2").header("Transfer-Encoding", "chunked").noContentLength().body("2\r\n{}\r\n0\r\n\r\n"));
        send(c, request("POST", "/api/v1/merges").auth().header("Content-Type", "application/json")
                .header("Transfer-Encoding", "gzip").noContentLength().body("{}").expect(400));
        send(c, request("POST", "/api/v1/merges").auth().header("Content-Type", "application/json")
                .header("Transfer-Encoding", "chunked").noContentLength().body("zz\r\n{}\r\n0\r\n\r\n"));
        send(c, request("POST", "/api/v1/merges").auth().header("Content-Type", "application/json")
                .header("Expect", "bogus"));
        send(c, request("GET", "/api/v1/jobs").auth().header("Accept", "text/html"));
        send(c, request("GET", "/api/v1/jobs/not-a-uuid").auth().header("Accept", "text/html"));
        send(c, request("GET", "/api/v1/jobs/not-a-uuid").auth().header("Accept", "application/xml"));
        send(c, request("GET", "/api/v1/jobs/" + uuid()).auth().header("Accept", "image/png"));
        send(c, request("GET", "/api/v1/jobs/" + uuid() + "/events").auth().header("Accept", "text/event-stream"));
        send(c, request("GET", "/api/v1/jobs").auth().header("Accept", "bogus"));
        send(c, request("GET", "/nowhere").header("Accept", "text/html"));
        send(c, request("GET", "/actuator/nowhere"));
        send(c, request("GET", "/actuator/health/nowhere"));
        send(c, request("GET", "/openapi/nowhere"));
        send(c, request("GET", "/v3/api-docs/nowhere"));
    }

    /** Missing, malformed, unknown and under-privileged API keys. */
    private void authorization() throws Exception {
        String c = "authorization";
        String key = keys.get(0);
        List<String> values = List.of("Bearer", "Bearer ", "Bearer x", "Basic dXNlcjpwYXNz", "Token " + key, "Bearer " + key + "x",
                "Bearer " + "k".repeat(8_000), "Bearer \u00ff\u00fe\u0080", "Bearer " + key + " " + key, "Bearer\t" + key,
                "Bearer " + key.substring(0, key.length() / 2), "bearer " + key);
        for (String path : List.of("/api/v1/jobs", "/api/v1/merges", "/api/v1/admin/tenants")) {
            send(c, request("GET", path));
            for (String value : values) {
                send(c, request(path.equals("/api/v1/merges") ? "POST" : "GET", path).header("Authorization", value)
                        .header("Content-Type", "application/json").body("{}"));
            }
        }
        send(c, request("GET", "/api/v1/jobs").header("Authorization", "Bearer " + key).header("Authorization", "Bearer x"));
        String tenant = createTenant("fuzz-other");
        member = JSON.readTree(call("POST", "/api/v1/admin/tenants/" + tenant + "/keys", "{\"name\":\"m\",\"admin\":false}"))
                .path("secret").asString();
        // a key that is not an admin's
        for (String path : List.of("/api/v1/admin/tenants", "/api/v1/admin/tenants/" + tenant + "/keys")) {
            send(c, request("GET", path).header("Authorization", "Bearer " + member).expect(403));
        }
        send(c, request("POST", "/api/v1/admin/tenants").header("Authorization", "Bearer " + member)
                .header("Content-Type", "application/json").body("{\"name\":\"x\"}").expect(403));
        send(c, request("DELETE", "/api/v1/admin/keys/" + uuid()).header("Authorization", "Bearer " + member).expect(403));
    }

    /** page, size, limit, after, enums and filters of every list. */
    private void paging() {
        String c = "paging";
        List<String> numbers = List.of("-1", "0", "1000000000", "1099511627776", "2147483647", "-2147483648", "abc", "1.5", "",
                "1e3", "%00", "0x10", "+5", "9223372036854775808", "%FF", "%ED%A0%80");
        for (String list : List.of("/api/v1/jobs", "/api/v1/artifacts")) {
            for (String n : numbers) {
                send(c, request("GET", list + "?page=" + n).auth());
                send(c, request("GET", list + "?size=" + n).auth());
            }
            send(c, request("GET", list + "?page=2147483647&size=200").auth());
            send(c, request("GET", list + "?page=10737418&size=200").auth());
            send(c, request("GET", list + "?page=1&page=2&size=3&size=x").auth());
        }
        for (String status : List.of("BOGUS", "running", "%00", "%FF", "\u0130", "%C4%B0", "x".repeat(5_000), "QUEUED%00")) {
            send(c, request("GET", "/api/v1/jobs?status=" + status).auth());
        }
        for (String type : List.of("%00", "merge%00", "%ED%A0%80", "%FF%FE", "'; drop table jobs; --", "x".repeat(5_000))) {
            send(c, request("GET", "/api/v1/jobs?type=" + type).auth());
        }
        for (String kind : List.of("BOGUS", "model", "", "%00", "MODEL%00", "1")) {
            send(c, request("GET", "/api/v1/artifacts?kind=" + kind).auth());
        }
        for (String name : List.of("%00", "a%00b", "%ED%A0%80", "%FF", "%25", "_", "x".repeat(5_000))) {
            send(c, request("GET", "/api/v1/artifacts?name=" + name).auth());
        }
        String events = "/api/v1/jobs/" + uuid() + "/events";
        for (String q : List.of("limit=0", "limit=5001", "limit=-1", "limit=abc", "limit=10000000000", "after=-1",
                "after=9223372036854775807", "after=9223372036854775808", "after=abc", "after=%00")) {
            send(c, request("GET", events + "?" + q).auth().header("Accept", "application/json"));
        }
        for (String id : List.of("abc", "-1", "99999999999999999999")) {
            send(c, request("GET", events).auth().header("Accept", "text/event-stream").header("Last-Event-ID", id));
        }
        // a few random combinations of everything above
        for (int i = 0; i < 20; i++) {
            String list = random.nextBoolean() ? "/api/v1/jobs" : "/api/v1/artifacts";
            send(c, request("GET", list + "?page=" + pick(numbers) + "&size=" + pick(numbers)
                    + (list.endsWith("jobs") ? "&status=" : "&kind=") + pick(List.of("BOGUS", "", "%00", "READY"))).auth());
        }
    }

    /** Every endpoint with an id in its path, with ids that are not ids, or not the caller's. */
    private void badIds() {
        String c = "ids";
        List<String> ids = List.of("not-a-uuid", "1-1-1-1-1", "00000000-0000-0000-0000-000000000000", uuid().toString(),
                uuid() + "x", "z".repeat(1_000), "%20", "%2e%2e", "-1", uuid().toString().toUpperCase(Locale.ROOT));
        for (String id : ids) {
            send(c, request("GET", "/api/v1/jobs/" + id).auth());
            send(c, request("POST", "/api/v1/jobs/" + id + "/cancel").auth());
            send(c, request("GET", "/api/v1/jobs/" + id + "/events").auth().header("Accept", "application/json"));
            send(c, request("GET", "/api/v1/jobs/" + id + "/events").auth().header("Accept", "text/event-stream"));
            send(c, request("GET", "/api/v1/artifacts/" + id).auth());
            send(c, request("GET", "/api/v1/artifacts/" + id + "/files").auth());
            send(c, request("GET", "/api/v1/artifacts/" + id + "/files/config.json").auth());
            send(c, request("DELETE", "/api/v1/artifacts/" + id).auth());
            send(c, request("GET", "/api/v1/admin/tenants/" + id + "/keys").auth());
            send(c, request("POST", "/api/v1/admin/tenants/" + id + "/keys").auth().json("{\"name\":\"k\"}"));
            send(c, request("DELETE", "/api/v1/admin/keys/" + id).auth());
        }
        // another tenant's artifact does not exist for this caller
        for (String path : List.of("", "/files", "/files/config.json")) {
            send(c, request("GET", "/api/v1/artifacts/" + model + path).header("Authorization", "Bearer " + member).expect(404));
        }
        send(c, request("DELETE", "/api/v1/artifacts/" + model).header("Authorization", "Bearer " + member).expect(404));
        for (String file : List.of("", "%00", "..%2F..%2Fapi-key", "../../api-key", "%ED%A0%80", "a/b/../../c", "config.json%00")) {
            send(c, request("GET", "/api/v1/artifacts/" + model + "/files/" + file).auth());
        }
    }

    /** Missing and wrong content types and charsets on every endpoint with a body. */
    private void contentTypes() {
        String c = "content-type";
        for (String path : List.of("/api/v1/merges", "/api/v1/prunings", "/api/v1/evaluations", "/api/v1/fusions", "/api/v1/representations",
                "/api/v1/artifacts/import", "/api/v1/admin/tenants", "/api/v1/artifacts")) {
            send(c, request("POST", path).auth().body("{}"));
            for (String type : List.of("text/plain", "application/json; charset=bogus", "application/json; charset=UTF-16",
                    "invalid//type", "multipart/form-data", "application/x-www-form-urlencoded", "application/x-tar")) {
                send(c, request("POST", path).auth().header("Content-Type", type).body("{\"name\":\"x\"}"));
            }
        }
    }

    /** Malformed JSON, then every known field of every spec set to values of the wrong type or range. */
    private void bodies() throws Exception {
        Map<String, Map<String, String>> specs = new LinkedHashMap<>();
        // valid but for one problem that validation reports along with the fuzzed field (the output name is taken),
        // so every field is checked without queueing a job for each accepted value
        specs.put("/api/v1/merges", spec("configYaml", quote("merge_method: linear\nmodels:\n  - model: tiny\n    parameters: {weight: 0.5}\n"
                + "  - model: tiny\n    parameters: {weight: 0.5}\ndtype: float32\n"), "output", quote("tiny"), "seed", "1",
                "priority", "0", "maxAttempts", "1", "config", null));
        specs.put("/api/v1/prunings", spec("model", quote("tiny"), "dataset", quote("calib"), "evalDataset", quote("calib"),
                "name", quote("tiny"), "priority", "0", "maxAttempts", "1", "method", quote("blockpruner"), "blocks", "1",
                "targetRatio", null, "candidates", quote("mix"), "samples", "2", "seqLen", "8", "seed", "1", "batchSize", "1",
                "output", quote("masked"), "cacheBudgetMb", "16"));
        specs.put("/api/v1/evaluations", spec("model", quote("tiny"), "dataset", quote("calib"), "seqLen", "8", "priority", "0",
                "maxAttempts", "0"));
        specs.put("/api/v1/fusions", spec("target", quote("tiny"), "data", quote("prefs"), "candidates", null, "rewardModel", null,
                "build", null, "evalData", quote("prefs"), "name", quote("tiny"), "priority", "0", "maxAttempts", "1",
                "stages", "[\"sft\",\"wrpo\"]", "loss", quote("wrpo"), "epochs", "1", "lr", "1e-5", "sftEpochs", "1", "sftLr", "1e-5",
                "beta", "0.1", "alphaEnd", "0.1", "alphaSchedule", quote("linear"), "simpoGamma", "0.5",
                "baselineChosen", quote("target"), "batchSize", "1", "gradAccum", "1", "maxLength", "16", "maxPromptLength", "8",
                "warmupRatio", "0.1", "weightDecay", "0", "maxGradNorm", "1", "seed", "1", "checkpointEvery", "10", "evalEvery", "10",
                "lora", "{\"rank\":2,\"alpha\":4,\"targetModules\":[\"q_proj\"]}", "outputDtype", quote("bf16"), "device", quote("cpu")));
        specs.put("/api/v1/representations", spec("model", quote("tiny"), "corpus", quote("calib"), "import", null,
                "chatTemplateFrom", quote("tiny"), "topK", "10", "maxLength", "16", "batchSize", "1", "device", quote("cpu"),
                "name", quote("tiny"), "priority", "0", "maxAttempts", "1"));
        specs.put("/api/v1/judgments", spec("benchmark", quote("alpaca_eval"), "answers", quote("calib"), "baseline", quote("calib"),
                "questions", null, "references", null,
                "judge", "{\"url\":\"http://127.0.0.1:9/v1\",\"model\":\"m\",\"apiKeyEnv\":\"OPENAI_API_KEY\"}",
                "requestsPerMinute", "60", "maxRetries", "1", "timeoutSeconds", "5", "parallel", "2", "name", quote("tiny"), "priority", "0",
                "maxAttempts", "1"));
        specs.put("/api/v1/artifacts/import", spec("kind", quote("DATASET"), "name", quote("calib"), "path", quote("d.jsonl")));
        specs.put("/api/v1/admin/tenants", spec("name", quote("fuzz-other")));
        specs.put("/api/v1/admin/tenants/" + tenantId + "/keys", spec("name", quote(""), "admin", "false"));

        // the fuzz reaches every field's check only if the rest of the spec is valid
        for (String job : List.of("/api/v1/merges", "/api/v1/prunings", "/api/v1/evaluations", "/api/v1/fusions",
                "/api/v1/representations", "/api/v1/judgments")) {
            Answer base = send(request("POST", job).auth().json(render(specs.get(job))));
            assertThat(base.status()).as(job + ": " + base.text()).isEqualTo(422);
            assertThat(JSON.readTree(base.text()).path("errors")).as(job + ": " + base.text()).hasSize(1);
        }

        List<String> malformed = List.of("", "{", "[", "nul", "{\"a\":}", "\"text\"", "123", "null", "[]", "{}{}", "{\"a\":1,}",
                "{'a':1}", "{\"a\":1}garbage", nested("[", "]", 2_000), nested("{\"a\":", "}", 2_000));
        for (String path : specs.keySet()) {
            for (String body : malformed) {
                send("malformed-json", request("POST", path).auth().json(body));
            }
            for (byte[] bad : List.of(bytes("{\"name\":\"", 0xC3, 0x28, "\"}"), bytes("", 0xFF, 0xFE, "{}"),
                    bytes("{\"name\":\"", 0xC0, 0xAF, "\"}"), bytes("{\"name\":\"", 0xED, 0xA0, 0x80, "\"}"),
                    bytes("{\"name\":\"ab", 0xE2, 0x82))) {
                send("invalid-utf8", request("POST", path).auth().header("Content-Type", "application/json").body(bad));
            }
        }
        for (Map.Entry<String, Map<String, String>> endpoint : specs.entrySet()) {
            for (String field : endpoint.getValue().keySet()) {
                List<String> values = new ArrayList<>(List.of("\"x\\u0000y\"", "\"\\ud800\""));
                List<String> others = new ArrayList<>(BAD_VALUES);
                Collections.shuffle(others, random);
                values.addAll(others.subList(0, 2));
                for (String value : values) {
                    Map<String, String> mutated = new LinkedHashMap<>(endpoint.getValue());
                    mutated.put(field, value);
                    send("field-types", request("POST", endpoint.getKey()).auth().json(render(mutated)).note(field + "=" + value));
                }
            }
            // unknown fields, with hostile names
            for (String field : List.of("\\u0000", "\\ud800", "", "x".repeat(10_000), "__proto__")) {
                Map<String, String> mutated = new LinkedHashMap<>(endpoint.getValue());
                mutated.put(field, "1");
                send("field-types", request("POST", endpoint.getKey()).auth().json(render(mutated)).note("field " + field));
            }
        }
        submissions(specs);
    }

    /**
     * Specs that are valid but for one job setting, so that the submission itself is reached: what the
     * job row stores (priority, attempts, the Idempotency-Key header) out of every range.
     */
    private void submissions(Map<String, Map<String, String>> specs) {
        String c = "submission";
        int n = 0;
        for (String job : List.of("/api/v1/merges", "/api/v1/prunings", "/api/v1/evaluations", "/api/v1/fusions", "/api/v1/representations")) {
            Map<String, String> valid = new LinkedHashMap<>(specs.get(job));
            valid.remove("maxAttempts");
            for (String setting : List.of("priority", "maxAttempts", "seed")) {
                for (String value : List.of("9223372036854775808", "-2147483649", "1e400", "-1", "\"1\"")) {
                    if (setting.equals("seed") && (job.endsWith("evaluations") || job.endsWith("representations"))) {
                        continue;
                    }
                    Map<String, String> mutated = new LinkedHashMap<>(valid);
                    String output = job.endsWith("merges") ? "output" : job.endsWith("evaluations") ? null : "name";
                    if (output != null) {
                        mutated.put(output, quote("fz-" + n++));
                    }
                    mutated.put(setting, value);
                    send(c, request("POST", job).auth().json(render(mutated)).note(setting + "=" + value));
                }
            }
        }
        Map<String, String> merge = new LinkedHashMap<>(specs.get("/api/v1/merges"));
        for (String key : List.of("", " ", "k".repeat(300), "\u00ff\u00fe", "a\tb", "k".repeat(9_000))) {
            merge.put("output", quote("fz-" + n++));
            send(c, request("POST", "/api/v1/merges").auth().header("Idempotency-Key", key).json(render(merge)));
        }
    }

    /** Bodies of 10 MB: JSON, YAML, garbage, on every kind of endpoint, authenticated and not. */
    private void largeBodies() {
        String c = "10MB";
        int mb10 = 10 * 1024 * 1024;
        send(c, request("POST", "/api/v1/merges").auth().json("{\"output\":\"big\",\"configYaml\":\"" + "a: b\\n".repeat(mb10 / 6) + "\"}"));
        send(c, request("POST", "/api/v1/prunings").auth().json("{\"model\":\"tiny\",\"dataset\":\"calib\",\"name\":\""
                + "n".repeat(mb10) + "\"}"));
        send(c, request("POST", "/api/v1/fusions").auth().json("[" + "1,".repeat(mb10 / 2) + "1]"));
        send(c, request("POST", "/api/v1/artifacts/import").auth().json("x".repeat(mb10)));
        send(c, request("POST", "/api/v1/merges").json("{\"output\":\"" + "x".repeat(mb10) + "\"}"));
        byte[] garbage = new byte[mb10];
        random.nextBytes(garbage);
        send(c, request("POST", "/api/v1/artifacts?kind=MODEL&name=big").auth().header("Content-Type", "application/x-tar").body(garbage));
    }

    /** YAML bombs, huge and hostile YAML in configYaml. */
    private void yaml() {
        String c = "yaml";
        StringBuilder laughs = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (char n = 'b'; n <= 'j'; n++) {
            char p = (char) (n - 1);
            laughs.append(n).append(": &").append(n).append(" [*").append(p).append(",*").append(p).append(",*").append(p)
                    .append(",*").append(p).append(",*").append(p).append(",*").append(p).append(",*").append(p).append(",*")
                    .append(p).append(",*").append(p).append("]\n");
        }
        StringBuilder aliases = new StringBuilder("merge_method: linear\nx: &x {weight: 1}\nmodels:\n");
        for (int i = 0; i < 5_000; i++) {
            aliases.append("  - {model: tiny, parameters: *x}\n");
        }
        List<String> docs = List.of(laughs.toString(), "merge_method: linear\nmodels: &m [*m]\n", aliases.toString(),
                nested("[", "]", 10_000), nested("{a: ", "}", 10_000), "merge_method: !!java.lang.Runtime linear\n",
                "!!binary " + "A".repeat(1_000), "%YAML 9.9\n---\na: 1\n", "---\na: 1\n---\nb: 2\n", "merge_method: linear\nmerge_method: ties\n",
                "\tmerge_method: linear\n", "merge_method: *undefined\n", "? [a, b]\n: c\n", "models:\n" + "  - model: tiny\n".repeat(10_000),
                "merge_method: \"\\0\\uD800\"\n", "merge_method: linear\nmodels:\n  - model: \"\\x00\"\n  - model: \"\\uD800\"\n");
        for (String doc : docs) {
            send(c, request("POST", "/api/v1/merges").auth().json("{\"output\":\"y\",\"configYaml\":" + quote(doc) + "}"));
        }
    }

    /** Multipart and tar uploads with broken framing, names and parameters. */
    private void uploads() {
        String c = "uploads";
        String boundary = "fuzzboundary";
        String part = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n{\"text\":\"x\"}\n\r\n--" + boundary + "--\r\n";
        String multipart = "multipart/form-data; boundary=" + boundary;
        for (String fileName : List.of("d.jsonl", "../x", "", ".hidden", "a\u0000b", "\u00ff\u00fe", "a/b", "c:\\x")) {
            send(c, request("POST", "/api/v1/artifacts?kind=DATASET&name=up").auth().header("Content-Type", multipart)
                    .body(String.format(part, fileName).getBytes(StandardCharsets.ISO_8859_1)));
        }
        for (String query : List.of("", "?kind=DATASET", "?name=up", "?kind=BOGUS&name=up", "?kind=DATASET&name=%00",
                "?kind=DATASET&name=%ED%A0%80", "?kind=MODEL&name=up", "?kind=DATASET&name=" + "n".repeat(300), "?kind=&name=")) {
            send(c, request("POST", "/api/v1/artifacts" + query).auth().header("Content-Type", multipart)
                    .body(String.format(part, "d.jsonl").getBytes(StandardCharsets.ISO_8859_1)));
            send(c, request("POST", "/api/v1/artifacts" + query).auth().header("Content-Type", "application/x-tar").body(new byte[1024]));
        }
        send(c, request("POST", "/api/v1/artifacts?kind=DATASET&name=up").auth().header("Content-Type", multipart).body("garbage"));
        send(c, request("POST", "/api/v1/artifacts?kind=DATASET&name=up").auth().header("Content-Type", multipart)
                .body("--" + boundary + "\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--" + boundary + "--\r\n"));
        send(c, request("POST", "/api/v1/artifacts?kind=DATASET&name=up").auth().header("Content-Type", multipart)
                .body("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.jsonl\"\r\n\r\nunterminated"));
        send(c, request("POST", "/api/v1/artifacts?kind=DATASET&name=up").auth().header("Content-Type", "multipart/form-data; boundary=")
                .body("x"));
        byte[] header = new byte[512];
        System.arraycopy("truncated".getBytes(StandardCharsets.US_ASCII), 0, header, 0, 9);
        Arrays.fill(header, 100, 108, (byte) 'z');
        send(c, request("POST", "/api/v1/artifacts?kind=DATASET&name=tar").auth().header("Content-Type", "application/x-tar").body(header));
        send(c, request("POST", "/api/v1/artifacts?kind=DATASET&name=tar").auth().header("Content-Type", "application/x-tar")
                .body("not a tar at all"));
    }

    /** After all that: healthy, and a normal call works. */
    private void afterwardsThePlatformIsHealthy() throws Exception {
        Answer health = send(request("GET", "/actuator/health"));
        assertThat(health.status()).as(health.text()).isEqualTo(200);
        assertThat(health.text()).contains("\"status\":\"UP\"");
        Answer jobs = send(request("GET", "/api/v1/jobs").auth());
        assertThat(jobs.status()).as(jobs.text()).isEqualTo(200);
        assertThat(JSON.readTree(jobs.text()).path("items").isArray()).isTrue();
        Answer artifacts = send(request("GET", "/api/v1/artifacts?kind=MODEL").auth());
        assertThat(artifacts.status()).isEqualTo(200);
        assertThat(artifacts.text()).contains("\"name\":\"tiny\"");
    }

    // ---- set-up ----------------------------------------------------------------------------------------------

    private String tenantId;
    private String model;
    /** A key of another tenant, not an admin. */
    private String member;

    /** The artifacts the specs name, and more admin keys so the gateway's rate limit never answers instead. */
    private void setUp(String adminKey) throws Exception {
        keys.add(adminKey);
        call("POST", "/api/v1/artifacts/import", "{\"kind\":\"MODEL\",\"name\":\"tiny\",\"path\":\"tiny\"}");
        call("POST", "/api/v1/artifacts/import", "{\"kind\":\"DATASET\",\"name\":\"calib\",\"path\":\"d.jsonl\"}");
        call("POST", "/api/v1/artifacts/import", "{\"kind\":\"DATASET\",\"name\":\"prefs\",\"path\":\"prefs.jsonl\"}");
        model = JSON.readTree(call("GET", "/api/v1/artifacts?name=tiny", null)).path("items").get(0).path("id").asString();
        for (JsonNode t : JSON.readTree(call("GET", "/api/v1/admin/tenants", null))) {
            if (t.path("name").asString().equals("default")) {
                tenantId = t.path("id").asString();
            }
        }
        for (int i = 0; i < 3; i++) {
            keys.add(JSON.readTree(call("POST", "/api/v1/admin/tenants/" + tenantId + "/keys",
                    "{\"name\":\"fuzz-" + i + "\",\"admin\":true}")).path("secret").asString());
        }
    }

    private String createTenant(String name) throws Exception {
        return JSON.readTree(call("POST", "/api/v1/admin/tenants", "{\"name\":\"" + name + "\"}")).path("id").asString();
    }

    /** A request of the set-up, which must succeed. */
    private String call(String method, String path, String json) throws IOException {
        Request r = request(method, path).auth();
        if (json != null) {
            r.json(json);
        }
        Answer a = send(r);
        assertThat(a.status()).as(method + " " + path + ": " + a.text()).isBetween(200, 299);
        return a.text();
    }

    // ---- checks ----------------------------------------------------------------------------------------------

    private void send(String category, Request request) {
        casesPerCategory.merge(category, 1, Integer::sum);
        String what = category + ": " + request.describe();
        Answer a;
        long started = System.nanoTime();
        try {
            a = send(request);
        } catch (IOException e) {
            failures.add(what + " -> no answer (" + e.getMessage() + ")");
            return;
        } finally {
            timings.add(new Timing((System.nanoTime() - started) / 1_000_000, abbreviate(what, 120)));
        }
        answersPerStatus.merge(a.status(), 1, Integer::sum);
        String problem = check(request, a);
        if (problem != null) {
            failures.add(what + " -> " + a.status() + " " + a.contentType() + ": " + problem + " | " + abbreviate(a.text(), 300));
        }
        if (a.status() == 202) {
            cancelQueuedJob(a);
        }
    }

    /** What is wrong with an answer, or null. */
    private String check(Request request, Answer a) {
        if (a.status() < 100) {
            return "no HTTP answer";
        }
        if (a.status() >= 500) {
            return "a server error";
        }
        if (a.status() == 429) {
            return "rate-limited: the fuzz did not reach the endpoint";
        }
        if (request.expected != null && a.status() != request.expected) {
            return "expected " + request.expected;
        }
        String text = a.text();
        for (String marker : leakMarkers) {
            if (text.contains(marker)) {
                return "the body names '" + marker + "'";
            }
        }
        if (a.status() < 400) {
            return null;
        }
        if (!a.contentType().toLowerCase(Locale.ROOT).startsWith("application/problem+json")) {
            return "not problem+json";
        }
        if ("HEAD".equals(request.method)) {
            return null;
        }
        JsonNode body;
        try {
            body = JSON.readTree(text);
        } catch (RuntimeException e) {
            return "the body is not JSON";
        }
        if (!body.path("type").isString() || !body.path("title").isString() || body.path("status").asInt() != a.status()) {
            return "not a problem (type, title, status)";
        }
        return null;
    }

    /** Accepted jobs are cancelled at once: the fuzz tests the API, not the workers. */
    private void cancelQueuedJob(Answer a) {
        try {
            String id = JSON.readTree(a.text()).path("id").asString();
            send(request("POST", "/api/v1/jobs/" + id + "/cancel").auth());
        } catch (RuntimeException | IOException e) {
            failures.add("could not cancel an accepted job: " + e.getMessage());
        }
    }

    // ---- a raw HTTP/1.1 client -------------------------------------------------------------------------------

    private record Answer(int status, String contentType, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private Request request(String method, String target) {
        return new Request(method, target);
    }

    private Request raw(String head) {
        Request r = new Request(null, null);
        r.raw = head.getBytes(StandardCharsets.ISO_8859_1);
        return r;
    }

    /** A request; its head is written as ISO-8859-1, so a char up to U+00FF is sent as that raw byte. */
    private final class Request {
        final String method;
        final String target;
        final List<String[]> headers = new ArrayList<>();
        byte[] body;
        byte[] raw;
        boolean contentLength = true;
        String note;
        Integer expected;

        Request(String method, String target) {
            this.method = method;
            this.target = target;
        }

        Request auth() {
            // the keys take turns, so no key meets the gateway's rate limit
            return header("Authorization", "Bearer " + keys.get(nextKey++ % keys.size()));
        }

        Request header(String name, String value) {
            headers.add(new String[] {name, value});
            return this;
        }

        Request json(String json) {
            return header("Content-Type", "application/json").body(json);
        }

        Request body(String text) {
            return body(text.getBytes(StandardCharsets.UTF_8));
        }

        Request body(byte[] bytes) {
            this.body = bytes;
            return this;
        }

        /** What the case is about, for the failure list, where the body is shown abbreviated. */
        Request note(String text) {
            this.note = text;
            return this;
        }

        Request expect(int status) {
            this.expected = status;
            return this;
        }

        Request noContentLength() {
            contentLength = false;
            return this;
        }

        byte[] bytes() {
            if (raw != null) {
                return raw;
            }
            StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n");
            head.append("Host: localhost:").append(port).append("\r\nConnection: close\r\n");
            for (String[] h : headers) {
                head.append(h[0]).append(": ").append(h[1]).append("\r\n");
            }
            if (body != null && contentLength) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            head.append("\r\n");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) {
                out.writeBytes(body);
            }
            return out.toByteArray();
        }

        String describe() {
            String line = raw != null ? new String(raw, StandardCharsets.ISO_8859_1) : method + " " + target;
            String first = line.contains("\r\n") ? line.substring(0, line.indexOf("\r\n")) : line;
            StringBuilder d = new StringBuilder(printable(abbreviate(first, 100)));
            for (String[] h : headers) {
                if (!h[0].equals("Authorization") || !h[1].startsWith("Bearer ") || !keys.contains(h[1].substring(7))) {
                    d.append(" [").append(printable(abbreviate(h[0] + ": " + h[1], 60))).append(']');
                }
            }
            if (note != null) {
                d.append(" {").append(printable(abbreviate(note, 80))).append('}');
            }
            if (body != null) {
                d.append(" body(").append(body.length).append("): ")
                        .append(printable(abbreviate(new String(body, StandardCharsets.UTF_8), 120)));
            }
            return d.toString();
        }
    }

    private Answer send(Request request) throws IOException {
        byte[] bytes = request.bytes();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            // written while the answer is read: a server may answer (and close) before reading a large body
            Future<?> written = writer.submit(() -> {
                try {
                    out.write(bytes);
                    out.flush();
                } catch (IOException ignored) {
                    // the server stopped reading; its answer is what counts
                }
                return null;
            });
            byte[] answer = readAll(socket.getInputStream());
            written.cancel(true);
            return parse(answer);
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        try {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                all.write(buffer, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new IOException("no complete answer within 30 s");
        } catch (IOException e) {
            // a reset after the answer (the rest of a large body was refused): keep what arrived
            if (all.size() == 0) {
                throw e;
            }
        }
        return all.toByteArray();
    }

    private static Answer parse(byte[] answer) {
        String all = new String(answer, StandardCharsets.ISO_8859_1);
        int end = all.indexOf("\r\n\r\n");
        if (!all.startsWith("HTTP/") || end < 0) {
            return new Answer(0, "", answer);
        }
        String[] lines = all.substring(0, end).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        byte[] body = Arrays.copyOfRange(answer, end + 4, answer.length);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            body = dechunk(body);
        }
        return new Answer(status, headers.getOrDefault("content-type", ""), body);
    }

    private static byte[] dechunk(byte[] chunked) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String s = new String(chunked, StandardCharsets.ISO_8859_1);
        int at = 0;
        while (at < s.length()) {
            int lineEnd = s.indexOf("\r\n", at);
            if (lineEnd < 0) {
                break;
            }
            int size = Integer.parseInt(s.substring(at, lineEnd).split(";")[0].trim(), 16);
            if (size == 0) {
                break;
            }
            out.write(chunked, lineEnd + 2, Math.min(size, chunked.length - lineEnd - 2));
            at = lineEnd + 2 + size + 2;
        }
        return out.toByteArray();
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /** Field name, raw JSON value pairs; a null value leaves the field out of the base spec but fuzzes it. */
    private static Map<String, String> spec(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    private static String render(Map<String, String> fields) {
        StringBuilder b = new StringBuilder("{");
        fields.forEach((k, v) -> {
            if (v != null) {
                b.append(b.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v);
            }
        });
        return b.append('}').toString();
    }

    private static String quote(String s) {
        return JSON.writeValueAsString(s);
    }

    private static String nested(String open, String close, int depth) {
        return open.repeat(depth) + close.repeat(depth);
    }

    /** Text and raw bytes, in order. */
    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String s) {
                out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            } else {
                out.write((Integer) p);
            }
        }
        return out.toByteArray();
    }

    private <T> T pick(List<T> values) {
        return values.get(random.nextInt(values.size()));
    }

    private UUID uuid() {
        return new UUID(random.nextLong(), random.nextLong());
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...(" + s.length() + ")";
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char ch : s.toCharArray()) {
            b.append(ch < 0x20 || ch > 0x7e ? String.format("\\x%02x", (int) ch & 0xffff) : String.valueOf(ch));
        }
        return b.toString();
    }
}
