package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What `amalgam up` starts: every service on embedded PostgreSQL, an admin key, state kept across restarts. */
class LocalPlatformTest {

    @TempDir
    Path dir;

    @Test
    void startsEverythingAndKeepsStateAcrossARestart() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        Path data = dir.resolve("amalgam-data");
        Path imports = dir.resolve("amalgam-import");
        Files.createDirectories(imports);
        Files.writeString(imports.resolve("d.jsonl"), "{\"text\":\"x\"}\n");
        String key;
        try (LocalPlatform platform = LocalPlatform.start(0, data, imports)) {
            String base = "http://localhost:" + platform.port();
            Path keyFile = data.resolve("api-key");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile))).isEqualTo("rw-------");
            key = Files.readString(keyFile).trim();
            assertThat(get(http, base + "/actuator/health", null).statusCode()).isEqualTo(200);
            assertThat(get(http, base + "/actuator/prometheus", null).body()).contains("jvm_memory_used_bytes");
            assertThat(get(http, base + "/", null).body()).contains("Amalgam");
            // the gateway's Swagger UI lists every service's OpenAPI document, fetched through its routes
            assertThat(get(http, base + "/openapi/merge-service", null).body()).contains("/api/v1/merges")
                    .as("calls go through the gateway").contains("\"servers\":[{\"url\":\"/\"").contains("bearer");
            assertThat(get(http, base + "/openapi/pruning-service", null).body()).contains("/api/v1/prunings").contains("/api/v1/evaluations");
            assertThat(get(http, base + "/openapi/fusion-service", null).body()).contains("/api/v1/fusions")
                    .contains("/api/v1/representations");
            assertThat(get(http, base + "/v3/api-docs", null).body()).contains("/api/v1/jobs").contains("/api/v1/artifacts");
            for (String doc : List.of("/v3/api-docs", "/openapi/merge-service", "/openapi/pruning-service", "/openapi/fusion-service")) {
                assertThat(get(http, base + doc, null).body()).as("the caller comes from the API key, not a parameter: " + doc)
                        .doesNotContain("\"name\":\"caller\"");
            }
            var imported = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/artifacts/import"))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"kind\":\"DATASET\",\"name\":\"d\",\"path\":\"d.jsonl\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(imported.statusCode()).as(imported.body()).isEqualTo(201);
            // every service is reachable through the gateway: the fusion service validates the spec itself
            var fusion = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/fusions"))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(fusion.statusCode()).as(fusion.body()).isEqualTo(422);
            assertThat(fusion.body()).contains("target").contains("name");
            var represent = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/representations"))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"none\",\"corpus\":\"d\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(represent.statusCode()).as(represent.body()).isEqualTo(422);
            assertThat(represent.body()).contains("model: no artifact 'none'").contains("name: ");
            var eval = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/evaluations"))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"none\",\"dataset\":\"d\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(eval.statusCode()).isEqualTo(422);
            assertThat(eval.body()).contains("no artifact 'none'");
        }
        try (LocalPlatform again = LocalPlatform.start(0, data, imports)) {
            String base = "http://localhost:" + again.port();
            assertThat(Files.readString(data.resolve("api-key")).trim()).as("the key is generated once").isEqualTo(key);
            var list = get(http, base + "/api/v1/artifacts", key);
            assertThat(list.statusCode()).isEqualTo(200);
            assertThat(list.body()).contains("\"name\":\"d\"");
        }
    }

    @Test
    void refusesToStartWhenTheImportRootContainsTheDataDirectory() throws Exception {
        Path data = dir.resolve("amalgam-data");
        // the old default: the current directory as import root, with the data directory inside it
        assertThatThrownBy(() -> LocalPlatform.start(0, data, dir).close())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("contains the data directory");
        // the same through a link to the data directory's parent
        Path link = Files.createSymbolicLink(dir.resolveSibling(dir.getFileName() + "-link"), dir);
        try {
            assertThatThrownBy(() -> LocalPlatform.start(0, data, link).close())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("contains the data directory");
        } finally {
            Files.delete(link);
        }
        assertThatThrownBy(() -> LocalPlatform.start(0, data, data.resolve("artifacts")).close())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lies inside the data directory");
        assertThat(data.resolve("postgres")).as("refused before any server started").doesNotExist();
    }

    private static HttpResponse<String> get(HttpClient http, String url, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
