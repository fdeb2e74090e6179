package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.serve.OpenAiCompletions;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The serve job on the running platform (what {@code amalgam up} starts), called with OpenAI's official Java client
 * through the gateway: chat and completions, streaming, logprobs, stop, seed; API keys and tenants; cancel and idle.
 */
class OpenAiServingTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> call(String method, String url, String key, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json");
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode awaitJob(String base, String key, String id, java.util.function.Predicate<JsonNode> until) throws Exception {
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonNode job = JSON.readTree(call("GET", base + "/api/v1/jobs/" + id, key, null).body());
            if (until.test(job)) {
                return job;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("job " + id + " did not get there");
    }

    @Test
    void theOfficialOpenAiClientChatsStreamsAndCompletesThroughTheGateway() throws Exception {
        Path data = dir.resolve("amalgam-data");
        Path imports = dir.resolve("amalgam-import");
        Path modelDir = imports.resolve("models/tiny-chat");
        TinyModels.write(Architecture.LLAMA, modelDir, TinySizes.defaults(), 3);
        try (LocalPlatform platform = LocalPlatform.start(0, data, imports)) {
            String base = "http://localhost:" + platform.port();
            String key = Files.readString(data.resolve("api-key")).trim();
            assertThat(call("POST", base + "/api/v1/artifacts/import", key,
                    "{\"kind\":\"MODEL\",\"name\":\"tiny-chat\",\"path\":\"models/tiny-chat\"}").statusCode()).isEqualTo(201);
            HttpResponse<String> submitted = call("POST", base + "/api/v1/servings", key,
                    "{\"model\": \"tiny-chat\", \"maxTokens\": 32, \"idleSeconds\": 600}");
            assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
            String id = JSON.readTree(submitted.body()).get("id").asString();
            awaitJob(base, key, id, j -> j.path("progressMessage").asString("").startsWith("serving"));

            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(base + "/api/v1/servings/" + id + "/v1")
                    .apiKey(key).maxRetries(0).build();
            ChatCompletionCreateParams greedy = ChatCompletionCreateParams.builder().model("tiny-chat")
                    .addUserMessage("Hello, who are you?").maxTokens(10).temperature(0.0).seed(7).logprobs(true)
                    .topLogprobs(3).build();
            ChatCompletion answer = client.chat().completions().create(greedy);
            String content = answer.choices().get(0).message().content().orElseThrow();
            // the same request answered in this JVM by the library over the same files
            JsonNode expected;
            try (TextTokenizer tok = TextTokenizer.load(modelDir); LlamaModel m = CheckpointLoader.load(modelDir, EngineOptions.cpu())) {
                OpenAiCompletions local = new OpenAiCompletions(m, tok, "tiny-chat", 32, Clock.systemUTC());
                expected = local.run(local.parse(true, JSON.readTree("""
                        {"messages": [{"role": "user", "content": "Hello, who are you?"}], "max_tokens": 10,
                         "temperature": 0, "logprobs": true, "top_logprobs": 3}""")), c -> { });
            }
            JsonNode want = expected.get("choices").get(0);
            assertThat(content).isEqualTo(want.get("message").get("content").asString());
            assertThat(answer.model()).isEqualTo("tiny-chat");
            assertThat(answer.choices().get(0).finishReason().asString()).isEqualTo(want.get("finish_reason").asString());
            List<ChatCompletionTokenLogprob> logprobs = answer.choices().get(0).logprobs().orElseThrow().content().orElseThrow();
            assertThat(logprobs).hasSize(want.get("logprobs").get("content").size());
            for (int i = 0; i < logprobs.size(); i++) {
                // the worker's PyTorch thread count may differ from this thread's: rounding, not more
                assertThat(logprobs.get(i).logprob()).isCloseTo(want.get("logprobs").get("content").get(i).get("logprob").asDouble(),
                        org.assertj.core.data.Offset.offset(1e-4));
                assertThat(logprobs.get(i).topLogprobs()).hasSize(3);
                assertThat(logprobs.get(i).topLogprobs().get(0).logprob()).as("greedy takes the most likely token")
                        .isEqualTo(logprobs.get(i).logprob());
            }
            assertThat(answer.usage().orElseThrow().completionTokens()).isEqualTo(expected.get("usage").get("completion_tokens").asLong());

            // streaming: server-sent chunks through the gateway join to the same text
            StringBuilder streamed = new StringBuilder();
            String[] finish = {null};
            long[] usage = {-1};
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(greedy.toBuilder()
                    .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
                stream.stream().forEach(chunk -> {
                    chunk.choices().forEach(c -> {
                        c.delta().content().ifPresent(streamed::append);
                        c.finishReason().ifPresent(f -> finish[0] = f.asString());
                    });
                    chunk.usage().ifPresent(u -> usage[0] = u.completionTokens());
                });
            }
            assertThat(streamed.toString()).isEqualTo(content);
            assertThat(finish[0]).isEqualTo(want.get("finish_reason").asString());
            assertThat(usage[0]).isEqualTo(answer.usage().orElseThrow().completionTokens());

            // sampling with a seed is reproducible; completions with a stop sequence
            ChatCompletionCreateParams sampled = ChatCompletionCreateParams.builder().model("tiny-chat")
                    .addUserMessage("Tell me a story").maxTokens(12).temperature(1.2).topP(0.9).seed(42).build();
            assertThat(client.chat().completions().create(sampled).choices().get(0).message().content())
                    .isEqualTo(client.chat().completions().create(sampled).choices().get(0).message().content());
            Completion plain = client.completions().create(CompletionCreateParams.builder().model("tiny-chat")
                    .prompt("Once upon a time").maxTokens(6).temperature(0.0).build());
            assertThat(plain.choices().get(0).finishReason().asString()).isIn("length", "stop");
            assertThat(plain.usage().orElseThrow().completionTokens()).isBetween(1L, 6L);

            // a bad request is OpenAI's 400 error, naming the field
            HttpResponse<String> bad = call("POST", base + "/api/v1/servings/" + id + "/v1/chat/completions", key,
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 1000}");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(bad.body()).get("error").get("param").asString()).isEqualTo("max_tokens");

            // keys and tenants: a wrong key is 401, another tenant's key sees no such serving
            OpenAIClient wrongKey = OpenAIOkHttpClient.builder().baseUrl(base + "/api/v1/servings/" + id + "/v1")
                    .apiKey("amk_wrong").maxRetries(0).build();
            assertThatThrownBy(() -> wrongKey.chat().completions().create(greedy)).isInstanceOf(UnauthorizedException.class);
            String tenant = JSON.readTree(call("POST", base + "/api/v1/admin/tenants", key, "{\"name\":\"team-b\"}").body())
                    .get("id").asString();
            String otherKey = JSON.readTree(call("POST", base + "/api/v1/admin/tenants/" + tenant + "/keys", key,
                    "{\"name\":\"b\"}").body()).get("secret").asString();
            OpenAIClient other = OpenAIOkHttpClient.builder().baseUrl(base + "/api/v1/servings/" + id + "/v1")
                    .apiKey(otherKey).maxRetries(0).build();
            assertThatThrownBy(() -> other.chat().completions().create(greedy)).isInstanceOf(NotFoundException.class);

            // cancel stops the server: the job ends CANCELLED and the endpoint answers 409
            assertThat(call("POST", base + "/api/v1/jobs/" + id + "/cancel", key, null).statusCode()).isEqualTo(200);
            awaitJob(base, key, id, j -> j.path("status").asString("").equals("CANCELLED"));
            assertThat(call("POST", base + "/api/v1/servings/" + id + "/v1/completions", key, "{\"prompt\": \"x\"}")
                    .statusCode()).isEqualTo(409);

            // idle: a serving without requests ends by itself, SUCCEEDED
            String idle = JSON.readTree(call("POST", base + "/api/v1/servings", key,
                    "{\"model\": \"tiny-chat\", \"idleSeconds\": 2}").body()).get("id").asString();
            JsonNode ended = awaitJob(base, key, idle, j -> j.path("status").asString("").equals("SUCCEEDED"));
            assertThat(ended.get("result").get("ended").asString()).isEqualTo("idle");
            assertThat(ended.get("result").get("requests").asLong()).isZero();
        }
    }
}
