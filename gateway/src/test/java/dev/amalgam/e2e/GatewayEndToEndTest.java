package dev.amalgam.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.e2e.echo.EchoServiceApplication;
import dev.amalgam.gateway.GatewayApplication;
import dev.amalgam.platform.testing.TestApps;
import dev.amalgam.platform.testing.TestDatabase;
import dev.amalgam.platform.testing.TestHttp;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The whole way of a job through the platform: a client calls the gateway, which authenticates and
 * routes to a service (a test-only echo service); the service validates and queues; its worker claims,
 * runs, reports and publishes an artifact; the client follows the job and downloads the output.
 */
class GatewayEndToEndTest {

    static final String ADMIN_KEY = TestApps.ADMIN_KEY;
    static final JsonMapper json = TestHttp.JSON;

    @TempDir
    static Path dataDir;

    static ConfigurableApplicationContext echoService;
    static ConfigurableApplicationContext gateway;
    static TestHttp api;

    @BeforeAll
    static void start() {
        TestDatabase.Db db = TestDatabase.newDatabase();
        echoService = TestApps.start(new SpringApplication(EchoServiceApplication.class), db, dataDir, Map.of());
        String echoUrl = TestApps.baseUrl(echoService);

        Map<String, Object> gw = new HashMap<>();
        gw.put("amalgam.gateway.requests-per-minute", "100000");
        gw.put("amalgam.gateway.streams-per-key", "3");
        gw.put("amalgam.gateway.job-types", "merge,prune,evaluate,fuse,echo");
        gw.put("amalgam.services.merge-url", echoUrl);
        gw.put("amalgam.services.pruning-url", echoUrl);
        gw.put("amalgam.services.fusion-url", echoUrl);
        // small upload limits, so that passing them takes little data
        gw.put("spring.servlet.multipart.max-file-size", "64KB");
        gw.put("spring.servlet.multipart.max-request-size", "64KB");
        gw.put("amalgam.uploads.max-bytes", "256KB");
        // a fourth route, for the test-only job type; lists are replaced whole, so all routes are named
        String[][] routes = {{"merges", "merge-url", "/api/v1/merges/**"}, {"prunings", "pruning-url", "/api/v1/prunings/**"},
                {"fusions", "fusion-url", "/api/v1/fusions/**"}, {"echoes", "merge-url", "/api/v1/echoes,/api/v1/echoes/**"}};
        for (int i = 0; i < routes.length; i++) {
            String prefix = "spring.cloud.gateway.server.webmvc.routes[" + i + "].";
            gw.put(prefix + "id", routes[i][0]);
            gw.put(prefix + "uri", "${amalgam.services." + routes[i][1] + "}");
            gw.put(prefix + "predicates[0]", "Path=" + routes[i][2]);
        }
        gateway = TestApps.start(GatewayApplication.application(), db, dataDir, gw);
        api = new TestHttp(TestApps.baseUrl(gateway));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (echoService != null) {
            echoService.close();
        }
    }

    static HttpResponse<String> call(String method, String path, String key, String body, String... headers) throws Exception {
        return api.call(method, path, key, body, headers);
    }

    static JsonNode awaitFinal(String jobId, String key) throws Exception {
        return api.awaitFinal(jobId, key);
    }

    static void assertProblem(HttpResponse<String> r, int status, String typeSuffix) {
        TestHttp.assertProblem(r, status, typeSuffix);
    }

    @Test
    void aJobTravelsFromGatewayThroughServiceAndWorkerToAnArtifact() throws Exception {
        var submit = call("POST", "/api/v1/echoes", ADMIN_KEY, "{\"message\":\"hello\",\"repeat\":3,\"output\":\"echo-report\"}");
        assertThat(submit.statusCode()).as(submit.body()).isEqualTo(202);
        String location = submit.headers().firstValue("Location").orElseThrow();
        JsonNode queued = json.readTree(submit.body());
        assertThat(location).isEqualTo("/api/v1/jobs/" + queued.get("id").asString());
        assertThat(queued.get("type").asString()).isEqualTo("echo");

        JsonNode done = awaitFinal(queued.get("id").asString(), ADMIN_KEY);
        assertThat(done.get("status").asString()).as(done.toString()).isEqualTo("SUCCEEDED");
        assertThat(done.get("progress").asDouble()).isEqualTo(1.0);
        assertThat(done.get("result").get("lines").asInt()).isEqualTo(3);
        String artifactId = done.get("result").get("artifact").asString();
        assertThat(done.get("outputs").get(0).asString()).isEqualTo(artifactId);

        JsonNode artifact = json.readTree(call("GET", "/api/v1/artifacts/" + artifactId, ADMIN_KEY, null).body());
        assertThat(artifact.get("kind").asString()).isEqualTo("REPORT");
        assertThat(artifact.get("producedBy").asString()).isEqualTo(queued.get("id").asString());
        String expected = "hello\nhello\nhello\n";
        JsonNode file = artifact.get("files").get(0);
        assertThat(file.get("path").asString()).isEqualTo("echo.txt");
        assertThat(file.get("sha256").asString())
                .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(expected.getBytes(StandardCharsets.UTF_8))));
        var download = call("GET", "/api/v1/artifacts/" + artifactId + "/files/echo.txt", ADMIN_KEY, null);
        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(download.body()).isEqualTo(expected);

        // events: JSON list and a server-sent event stream that ends when the job is final
        JsonNode events = json.readTree(call("GET", "/api/v1/jobs/" + queued.get("id").asString() + "/events", ADMIN_KEY, null,
                "Accept", "application/json").body());
        assertThat(events.size()).isGreaterThanOrEqualTo(3 + 3 + 3);
        var sse = call("GET", "/api/v1/jobs/" + queued.get("id").asString() + "/events", ADMIN_KEY, null, "Accept", "text/event-stream");
        assertThat(sse.statusCode()).isEqualTo(200);
        assertThat(sse.body()).contains("event:status").contains("SUCCEEDED").contains("event:metric").contains("event:progress");
    }

    @Test
    void filteringJobsByAnUnknownTypeOrStatusIs400NotAnEmptyList() throws Exception {
        assertProblem(call("GET", "/api/v1/jobs?type=bogus", ADMIN_KEY, null), 400, "bad-request");
        assertThat(call("GET", "/api/v1/jobs?type=bogus", ADMIN_KEY, null).body()).contains("echo").contains("merge");
        assertProblem(call("GET", "/api/v1/jobs?status=DONE", ADMIN_KEY, null), 422, "validation-error");
        assertThat(call("GET", "/api/v1/jobs?type=echo", ADMIN_KEY, null).statusCode()).isEqualTo(200);
    }

    @Test
    void anApiKeyMayFollowOnlySoManyEventStreamsAtOnce() throws Exception {
        var submit = call("POST", "/api/v1/echoes", ADMIN_KEY, "{\"message\":\"slow\",\"repeat\":100,\"delayMs\":100,\"output\":\"streamed\"}");
        String id = json.readTree(submit.body()).get("id").asString();
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        HttpRequest follow = HttpRequest.newBuilder(URI.create(TestApps.baseUrl(gateway) + "/api/v1/jobs/" + id + "/events"))
                .header("Authorization", "Bearer " + ADMIN_KEY).header("Accept", "text/event-stream").build();
        java.util.List<HttpResponse<java.io.InputStream>> open = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                var r = client.send(follow, HttpResponse.BodyHandlers.ofInputStream());
                assertThat(r.statusCode()).isEqualTo(200);
                open.add(r);
            }
            var fourth = client.send(follow, HttpResponse.BodyHandlers.ofString());
            assertThat(fourth.statusCode()).isEqualTo(429);
            assertThat(fourth.headers().firstValue("Content-Type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("application/problem+json"));
            assertThat(fourth.body()).contains("3 event streams");
        } finally {
            for (var r : open) {
                r.body().close();
            }
            call("POST", "/api/v1/jobs/" + id + "/cancel", ADMIN_KEY, null);
        }
        // a closed stream frees its place once the gateway notices the client left (its next write fails)
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        int status = 0;
        while (System.nanoTime() < deadline && status != 200) {
            Thread.sleep(200);
            status = call("GET", "/api/v1/jobs/" + id + "/events", ADMIN_KEY, null, "Accept", "text/event-stream").statusCode();
        }
        assertThat(status).isEqualTo(200);
    }

    @Test
    void everyApiCallNeedsAKeyAndGets401ProblemWithout() throws Exception {
        assertProblem(call("GET", "/api/v1/jobs", null, null), 401, "unauthorized");
        assertProblem(call("GET", "/api/v1/jobs", "amk_wrong", null), 401, "unauthorized");
        assertProblem(call("POST", "/api/v1/echoes", null, "{}"), 401, "unauthorized");
        assertThat(call("GET", "/actuator/health", null, null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/v3/api-docs", null, null).body()).contains("/api/v1/jobs").contains("/api/v1/artifacts");
    }

    @Test
    void invalidSpecGets422ListingEveryProblemAndCreatesNoJob() throws Exception {
        long before = json.readTree(call("GET", "/api/v1/jobs", ADMIN_KEY, null).body()).get("total").asLong();
        var r = call("POST", "/api/v1/echoes", ADMIN_KEY, "{\"repeat\":1000,\"input\":\"no-such-dataset\"}");
        assertProblem(r, 422, "validation-error");
        JsonNode errors = json.readTree(r.body()).get("errors");
        assertThat(errors.size()).isEqualTo(4);
        assertThat(errors.toString()).contains("message").contains("repeat").contains("output").contains("no-such-dataset");
        assertThat(json.readTree(call("GET", "/api/v1/jobs", ADMIN_KEY, null).body()).get("total").asLong()).isEqualTo(before);
        assertProblem(call("POST", "/api/v1/echoes", ADMIN_KEY, "{not json"), 400, "bad-request");
    }

    @Test
    void tenantsSeeOnlyTheirOwnJobsAndArtifacts() throws Exception {
        var tenant = call("POST", "/api/v1/admin/tenants", ADMIN_KEY, "{\"name\":\"team-b\"}");
        assertThat(tenant.statusCode()).as(tenant.body()).isEqualTo(201);
        String tenantId = json.readTree(tenant.body()).get("id").asString();
        var key = call("POST", "/api/v1/admin/tenants/" + tenantId + "/keys", ADMIN_KEY, "{\"name\":\"ci\"}");
        assertThat(key.statusCode()).isEqualTo(201);
        String bKey = json.readTree(key.body()).get("secret").asString();
        String bKeyId = json.readTree(key.body()).get("key").get("id").asString();

        var mine = call("POST", "/api/v1/echoes", ADMIN_KEY, "{\"message\":\"a\",\"repeat\":1,\"output\":\"iso-a\"}");
        String jobId = json.readTree(mine.body()).get("id").asString();
        JsonNode done = awaitFinal(jobId, ADMIN_KEY);
        String artifactId = done.get("outputs").get(0).asString();

        assertProblem(call("GET", "/api/v1/jobs/" + jobId, bKey, null), 404, "not-found");
        assertProblem(call("POST", "/api/v1/jobs/" + jobId + "/cancel", bKey, null), 404, "not-found");
        assertProblem(call("GET", "/api/v1/artifacts/" + artifactId, bKey, null), 404, "not-found");
        assertProblem(call("GET", "/api/v1/artifacts/" + artifactId + "/files/echo.txt", bKey, null), 404, "not-found");
        assertProblem(call("DELETE", "/api/v1/artifacts/" + artifactId, bKey, null), 404, "not-found");
        assertThat(json.readTree(call("GET", "/api/v1/jobs", bKey, null).body()).get("total").asLong()).isZero();
        assertProblem(call("GET", "/api/v1/admin/tenants", bKey, null), 403, "forbidden");
        // "who am I" names each key's own tenant, and admin only for the admin key
        JsonNode meB = json.readTree(call("GET", "/api/v1/me", bKey, null).body());
        assertThat(meB.get("tenantId").asString()).isEqualTo(tenantId);
        assertThat(meB.get("tenantName").asString()).isEqualTo("team-b");
        assertThat(meB.get("keyId").asString()).isEqualTo(bKeyId);
        assertThat(meB.get("admin").asBoolean()).isFalse();
        JsonNode meA = json.readTree(call("GET", "/api/v1/me", ADMIN_KEY, null).body());
        assertThat(meA.get("tenantId").asString()).isNotEqualTo(tenantId);
        assertThat(meA.get("admin").asBoolean()).isTrue();
        assertThat(call("GET", "/api/v1/me", ADMIN_KEY, null).body()).doesNotContain(ADMIN_KEY);
        // B's spec cannot reach A's artifacts by name either
        var r = call("POST", "/api/v1/echoes", bKey, "{\"message\":\"x\",\"repeat\":1,\"output\":\"o\",\"input\":\"" + artifactId + "\"}");
        assertProblem(r, 422, "validation-error");

        assertThat(call("DELETE", "/api/v1/admin/keys/" + bKeyId, ADMIN_KEY, null).statusCode()).isEqualTo(204);
        assertProblem(call("GET", "/api/v1/jobs", bKey, null), 401, "unauthorized");
        assertProblem(call("GET", "/api/v1/me", bKey, null), 401, "unauthorized");
    }

    @Test
    void idempotencyKeyMakesRetriesSafeThroughTheGateway() throws Exception {
        String body = "{\"message\":\"once\",\"repeat\":1,\"output\":\"idem-out\"}";
        var first = call("POST", "/api/v1/echoes", ADMIN_KEY, body, "Idempotency-Key", "retry-1");
        var second = call("POST", "/api/v1/echoes", ADMIN_KEY, body, "Idempotency-Key", "retry-1");
        assertThat(first.statusCode()).isEqualTo(202);
        assertThat(second.statusCode()).isEqualTo(202);
        assertThat(json.readTree(second.body()).get("id")).isEqualTo(json.readTree(first.body()).get("id"));
        assertThat(second.headers().firstValue("Idempotent-Replayed")).contains("true");
        assertProblem(call("POST", "/api/v1/echoes", ADMIN_KEY, body.replace("once", "twice"), "Idempotency-Key", "retry-1"),
                422, "validation-error");
    }

    @Test
    void cancellingARunningJobStopsItAndPublishesNothing() throws Exception {
        var submit = call("POST", "/api/v1/echoes", ADMIN_KEY, "{\"message\":\"slow\",\"repeat\":100,\"delayMs\":100,\"output\":\"never\"}");
        String id = json.readTree(submit.body()).get("id").asString();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!json.readTree(call("GET", "/api/v1/jobs/" + id, ADMIN_KEY, null).body()).get("status").asString().equals("RUNNING")) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(50);
        }
        assertThat(call("POST", "/api/v1/jobs/" + id + "/cancel", ADMIN_KEY, null).statusCode()).isEqualTo(200);
        JsonNode end = awaitFinal(id, ADMIN_KEY);
        assertThat(end.get("status").asString()).isEqualTo("CANCELLED");
        assertThat(end.get("outputs").size()).isZero();
        assertThat(json.readTree(call("GET", "/api/v1/artifacts?name=never", ADMIN_KEY, null).body()).get("total").asLong()).isZero();
        Files.createDirectories(TestApps.dataDir(dataDir).resolve("staging"));
        try (var staged = Files.list(TestApps.dataDir(dataDir).resolve("staging"))) {
            assertThat(staged.filter(p -> Files.exists(p.resolve("echo.txt")))).as("no partial output left").isEmpty();
        }
    }

    @Test
    void datasetsAreUploadedListedDownloadedAndDeletedWhenUnused() throws Exception {
        String boundary = "b0undary";
        String content = "{\"text\":\"one\"}\n{\"text\":\"two\"}\n";
        String multipart = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"train.jsonl\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n";
        HttpRequest req = HttpRequest.newBuilder(URI.create(TestApps.baseUrl(gateway) + "/api/v1/artifacts?kind=DATASET&name=corpus"))
                .header("Authorization", "Bearer " + ADMIN_KEY)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(multipart)).build();
        var up = api.send(req);
        assertThat(up.statusCode()).as(up.body()).isEqualTo(201);
        JsonNode dataset = json.readTree(up.body());
        assertThat(dataset.get("metadata").get("rows").asInt()).isEqualTo(2);
        String id = dataset.get("id").asString();

        var again = api.send(req);
        assertProblem(again, 409, "conflict");

        assertThat(call("GET", "/api/v1/artifacts/" + id + "/files/train.jsonl", ADMIN_KEY, null).body()).isEqualTo(content);
        assertProblem(call("GET", "/api/v1/artifacts/" + id + "/files/../../etc/passwd", ADMIN_KEY, null), 404, "not-found");
        JsonNode list = json.readTree(call("GET", "/api/v1/artifacts?kind=DATASET", ADMIN_KEY, null).body());
        assertThat(list.get("items").findValuesAsString("name")).contains("corpus");

        // an echo job that reads the dataset by name records lineage to it
        var job = call("POST", "/api/v1/echoes", ADMIN_KEY, "{\"message\":\"x\",\"repeat\":1,\"output\":\"from-corpus\",\"input\":\"corpus\"}");
        JsonNode done = awaitFinal(json.readTree(job.body()).get("id").asString(), ADMIN_KEY);
        assertThat(done.get("inputs").get(0).asString()).isEqualTo(id);
        JsonNode withLineage = json.readTree(call("GET", "/api/v1/artifacts/" + id, ADMIN_KEY, null).body());
        assertThat(withLineage.get("consumedBy").get(0).asString()).isEqualTo(done.get("id").asString());

        assertThat(call("DELETE", "/api/v1/artifacts/" + id, ADMIN_KEY, null).statusCode()).isEqualTo(204);
        // the job's lineage still leads to a record: deleted, without files, with its consumers
        JsonNode deleted = json.readTree(call("GET", "/api/v1/artifacts/" + id, ADMIN_KEY, null).body());
        assertThat(deleted.get("status").asString()).isEqualTo("DELETED");
        assertThat(deleted.get("files").size()).isZero();
        assertThat(deleted.get("consumedBy").get(0).asString()).isEqualTo(done.get("id").asString());
        assertProblem(call("GET", "/api/v1/artifacts/" + id + "/files/corpus.jsonl", ADMIN_KEY, null), 404, "not-found");
        assertThat(json.readTree(call("GET", "/api/v1/artifacts?kind=DATASET&name=corpus", ADMIN_KEY, null).body()).get("total").asLong())
                .as("not listed").isZero();
        assertProblem(call("DELETE", "/api/v1/artifacts/" + id, ADMIN_KEY, null), 404, "not-found");
        assertProblem(call("GET", "/api/v1/artifacts?size=0", ADMIN_KEY, null), 422, "validation-error");
    }

    @Test
    void aModelDirectoryUploadedAsATarBecomesAModelArtifact() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        byte[] config = "{\"architectures\":[\"MistralForCausalLM\"],\"num_hidden_layers\":1,\"vocab_size\":4}".getBytes(StandardCharsets.UTF_8);
        Path weights = dataDir.resolve("w.safetensors");
        try (var w = dev.amalgam.modelio.SafetensorsWriter.create(weights,
                java.util.List.of(new dev.amalgam.modelio.TensorSpec("model.embed_tokens.weight", dev.amalgam.modelio.DType.F16, new long[] {4, 3})),
                Map.of("format", "pt"))) {
            w.write("model.embed_tokens.weight", new float[12]);
        }
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(bytes)) {
            for (var entry : Map.of("my-model/config.json", config, "my-model/model.safetensors", Files.readAllBytes(weights)).entrySet()) {
                var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(entry.getKey());
                e.setSize(entry.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(entry.getValue());
                tar.closeArchiveEntry();
            }
        }
        HttpRequest req = HttpRequest.newBuilder(URI.create(TestApps.baseUrl(gateway) + "/api/v1/artifacts?kind=MODEL&name=tarred"))
                .header("Authorization", "Bearer " + ADMIN_KEY).header("Content-Type", "application/x-tar")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes.toByteArray())).build();
        var r = api.send(req);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode model = json.readTree(r.body());
        assertThat(model.get("metadata").get("architecture").asString()).isEqualTo("MistralForCausalLM");
        assertThat(model.get("metadata").get("parameterCount").asLong()).isEqualTo(12);
        assertThat(model.get("metadata").get("dtype").asString()).isEqualTo("F16");
        assertThat(model.get("files").findValuesAsString("path")).containsExactly("config.json", "model.safetensors");

        HttpRequest notATar = HttpRequest.newBuilder(URI.create(TestApps.baseUrl(gateway) + "/api/v1/artifacts?kind=MODEL&name=junk"))
                .header("Authorization", "Bearer " + ADMIN_KEY).header("Content-Type", "application/x-tar")
                .POST(HttpRequest.BodyPublishers.ofString("this is not a tar archive at all, just text")).build();
        var bad = api.send(notATar);
        assertThat(bad.statusCode()).isBetween(400, 422);
        assertThat(bad.headers().firstValue("Content-Type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("application/problem+json"));
    }

    @Test
    void uploadsPastTheLimitsAnswer413ProblemsAndLeaveNothingStaged() throws Exception {
        String boundary = "b0undary";
        String content = "{\"text\":\"a line\"}\n".repeat(8000);
        String multipart = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jsonl\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n";
        HttpRequest bigFile = HttpRequest.newBuilder(URI.create(TestApps.baseUrl(gateway) + "/api/v1/artifacts?kind=DATASET&name=big-file"))
                .header("Authorization", "Bearer " + ADMIN_KEY)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(multipart)).build();
        assertProblem(api.send(bigFile), 413, "payload-too-large");

        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(bytes)) {
            var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("big/weights.bin");
            e.setSize(300 * 1024);
            tar.putArchiveEntry(e);
            tar.write(new byte[300 * 1024]);
            tar.closeArchiveEntry();
        }
        HttpRequest bigTar = HttpRequest.newBuilder(URI.create(TestApps.baseUrl(gateway) + "/api/v1/artifacts?kind=REPORT&name=big-tar"))
                .header("Authorization", "Bearer " + ADMIN_KEY).header("Content-Type", "application/x-tar")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes.toByteArray())).build();
        assertProblem(api.send(bigTar), 413, "payload-too-large");

        assertThat(json.readTree(call("GET", "/api/v1/artifacts?name=big-", ADMIN_KEY, null).body()).get("total").asLong()).isZero();
        Files.createDirectories(dataDir.resolve("staging"));
        try (var staged = Files.walk(dataDir.resolve("staging"))) {
            assertThat(staged.filter(p -> p.getFileName().toString().startsWith("big"))).as("nothing of the uploads left").isEmpty();
        }
    }

    @Test
    void importIsConfinedToTheImportRoot() throws Exception {
        Files.createDirectories(dataDir.resolve("import"));
        Files.writeString(dataDir.resolve("import/eval.jsonl"), "{\"text\":\"a\"}\n");
        var ok = call("POST", "/api/v1/artifacts/import", ADMIN_KEY, "{\"kind\":\"DATASET\",\"name\":\"eval\",\"path\":\"eval.jsonl\"}");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(201);
        var escape = call("POST", "/api/v1/artifacts/import", ADMIN_KEY, "{\"kind\":\"DATASET\",\"name\":\"x\",\"path\":\"../api-key\"}");
        assertProblem(escape, 422, "validation-error");
        var notModel = call("POST", "/api/v1/artifacts/import", ADMIN_KEY, "{\"kind\":\"MODEL\",\"name\":\"bad name!\",\"path\":\"eval.jsonl\"}");
        assertProblem(notModel, 422, "validation-error");
        assertThat(json.readTree(notModel.body()).get("errors").size()).isEqualTo(2);
    }
}
