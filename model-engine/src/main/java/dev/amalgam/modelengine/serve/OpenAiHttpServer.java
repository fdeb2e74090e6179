package dev.amalgam.modelengine.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A small HTTP server (the JDK's) in front of {@link OpenAiCompletions}: {@code POST /v1/chat/completions},
 * {@code POST /v1/completions} (JSON, or server-sent events with {@code "stream": true}: {@code data: {chunk}}
 * lines and a final {@code data: [DONE]}) and {@code GET /v1/models}. Every request must carry the server's secret
 * in {@link #TOKEN_HEADER} (the gateway adds it after checking the caller's API key); errors are OpenAI's
 * {@code {"error": {"message", "type", "param", "code"}}}. It remembers when it last finished a request, for an
 * idle timeout.
 */
public final class OpenAiHttpServer implements AutoCloseable {

    /** The header that carries the server's secret. */
    public static final String TOKEN_HEADER = "X-Amalgam-Serving-Token";

    private final HttpServer server;
    private final ExecutorService threads = Executors.newFixedThreadPool(4);
    private final OpenAiCompletions completions;
    private final byte[] token;
    private final JsonMapper mapper = JsonMapper.builder().build();
    private final AtomicLong lastActivity;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong served = new AtomicLong();

    /** Starts serving on {@code bindAddress}, on a free port when {@code port} is 0. */
    public OpenAiHttpServer(OpenAiCompletions completions, String bindAddress, int port, String token) {
        this.completions = completions;
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.lastActivity = new AtomicLong(System.nanoTime());
        try {
            server = HttpServer.create(new InetSocketAddress(bindAddress, port), 64);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + bindAddress + ":" + port, e);
        }
        server.createContext("/v1/", this::handle);
        server.setExecutor(threads);
        server.start();
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** Nanoseconds ({@link System#nanoTime()}) since the last request ended, 0 while one runs. */
    public long idleNanos() {
        return inFlight.get() > 0 ? 0 : System.nanoTime() - lastActivity.get();
    }

    /** Requests answered so far. */
    public long served() {
        return served.get();
    }

    private void handle(HttpExchange ex) throws IOException {
        inFlight.incrementAndGet();
        try {
            String given = ex.getRequestHeaders().getFirst(TOKEN_HEADER);
            if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token)) {
                error(ex, 401, "authentication_error", null, "missing or wrong serving token");
                return;
            }
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            if (path.equals("/v1/models") && method.equals("GET")) {
                json(ex, 200, completions.models());
                return;
            }
            boolean chat = path.equals("/v1/chat/completions");
            if (!chat && !path.equals("/v1/completions")) {
                error(ex, 404, "invalid_request_error", null, "no such endpoint: " + path);
                return;
            }
            if (!method.equals("POST")) {
                error(ex, 405, "invalid_request_error", null, "use POST");
                return;
            }
            JsonNode body;
            try {
                body = mapper.readTree(ex.getRequestBody());
            } catch (JacksonException e) {
                error(ex, 400, "invalid_request_error", null, "the body is not JSON: " + e.getOriginalMessage());
                return;
            }
            OpenAiCompletions.Request request;
            try {
                request = completions.parse(chat, body);
            } catch (OpenAiCompletions.BadRequest e) {
                error(ex, 400, "invalid_request_error", e.param(), e.getMessage());
                return;
            }
            if (!request.stream()) {
                json(ex, 200, completions.run(request, c -> { }));
            } else {
                ex.getResponseHeaders().set("Content-Type", "text/event-stream");
                ex.getResponseHeaders().set("Cache-Control", "no-cache");
                ex.sendResponseHeaders(200, 0);
                OutputStream out = ex.getResponseBody();
                completions.run(request, chunk -> {
                    try {
                        out.write(("data: " + mapper.writeValueAsString(chunk) + "\n\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e); // the client went away: the generation stops
                    }
                });
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                out.close();
            }
            served.incrementAndGet();
        } catch (RuntimeException e) {
            try {
                error(ex, 500, "server_error", null, String.valueOf(e.getMessage()));
            } catch (IOException | RuntimeException ignored) {
                // headers were already sent (a stream): the connection is closed below
            }
        } finally {
            lastActivity.set(System.nanoTime());
            inFlight.decrementAndGet();
            ex.close();
        }
    }

    private void json(HttpExchange ex, int status, ObjectNode body) throws IOException {
        byte[] bytes = mapper.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private void error(HttpExchange ex, int status, String type, String param, String message) throws IOException {
        ObjectNode o = mapper.createObjectNode();
        ObjectNode e = o.putObject("error").put("message", message).put("type", type);
        if (param == null) {
            e.putNull("param");
        } else {
            e.put("param", param);
        }
        e.putNull("code");
        json(ex, status, o);
    }

    @Override
    public void close() {
        server.stop(1);
        threads.shutdownNow();
    }
}
