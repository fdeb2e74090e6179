package dev.amalgam.modelengine.judge;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * An OpenAI-compatible chat endpoint for tests: {@code POST /v1/chat/completions}, answered by a function of the
 * request; every request is recorded with its arrival time and Authorization header.
 */
final class FakeJudgeServer implements AutoCloseable {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** A request as the server saw it. */
    record Seen(long nanoTime, String authorization, JsonNode body) {
        String system() {
            return body.get("messages").get(0).get("content").stringValue();
        }

        String user() {
            JsonNode m = body.get("messages");
            return m.get(m.size() - 1).get("content").stringValue();
        }
    }

    /** The server's answer. */
    record Reply(int status, String body, Map<String, String> headers) {
        static Reply ok(String content) {
            return new Reply(200, completion(content, null), Map.of());
        }

        static Reply withLogprobs(String content, Map<String, Double> top) {
            return new Reply(200, completion(content, top), Map.of());
        }

        static Reply error(int status, String message) {
            ObjectNode b = JSON.createObjectNode();
            b.putObject("error").put("message", message).put("type", "server_error");
            return new Reply(status, JSON.writeValueAsString(b), Map.of());
        }
    }

    static String completion(String content, Map<String, Double> top) {
        ObjectNode b = JSON.createObjectNode();
        b.put("id", "chatcmpl-test").put("object", "chat.completion");
        ObjectNode choice = b.putArray("choices").addObject();
        choice.put("index", 0).put("finish_reason", "stop");
        choice.putObject("message").put("role", "assistant").put("content", content);
        if (top != null) {
            ObjectNode first = choice.putObject("logprobs").putArray("content").addObject();
            first.put("token", content).put("logprob", top.getOrDefault(content, -1.0));
            var list = first.putArray("top_logprobs");
            top.forEach((t, lp) -> list.addObject().put("token", t).put("logprob", lp));
        }
        return JSON.writeValueAsString(b);
    }

    final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final HttpServer server;
    private volatile Function<Seen, Reply> answer;

    FakeJudgeServer(Function<Seen, Reply> answer) throws IOException {
        this.answer = answer;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", exchange -> {
            long t = System.nanoTime();
            JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
            Seen s = new Seen(t, exchange.getRequestHeaders().getFirst("Authorization"), body);
            seen.add(s);
            Reply r = this.answer.apply(s);
            byte[] bytes = r.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            r.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
            exchange.sendResponseHeaders(r.status(), bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        // one thread per exchange, so that parallel clients are answered in parallel
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
    }

    void answer(Function<Seen, Reply> answer) {
        this.answer = answer;
    }

    /** The base URL a client is given ({@code .../v1}). */
    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
