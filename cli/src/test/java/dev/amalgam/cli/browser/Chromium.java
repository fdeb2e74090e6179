package dev.amalgam.cli.browser;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A headless Chromium driven over the Chrome DevTools Protocol, with nothing but java.net.http: the tests
 * use the system's browser (Debian's chromium package) and never download one. One browser, one page
 * (a target attached in flat session mode), commands answered by id, events handed to listeners.
 */
public final class Chromium implements AutoCloseable {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final WebSocket socket;
    private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<Consumer<JsonNode>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong ids = new AtomicLong();
    private final List<String> stderr = new CopyOnWriteArrayList<>();
    private String session;

    /** The browser binary: $AMALGAM_CHROMIUM, else chromium or google-chrome on the PATH's usual places. */
    public static Optional<Path> find() {
        List<String> candidates = new ArrayList<>();
        String env = System.getenv("AMALGAM_CHROMIUM");
        if (env != null && !env.isBlank()) {
            candidates.add(env);
        }
        candidates.addAll(List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
                "/usr/bin/google-chrome-stable", "/snap/bin/chromium"));
        return candidates.stream().map(Path::of).filter(Files::isExecutable).findFirst();
    }

    /** Starts the browser with a fresh profile under {@code profile} and opens one blank page. */
    public static Chromium start(Path binary, Path profile) throws IOException, InterruptedException {
        Files.createDirectories(profile);
        ProcessBuilder pb = new ProcessBuilder(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
                "--user-data-dir=" + profile, "--remote-debugging-port=0", "--window-size=1280,900", "about:blank");
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        CompletableFuture<String> url = new CompletableFuture<>();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        url.complete(m.group(1));
                    }
                }
            } catch (IOException ignored) {
                // the browser went away
            }
            url.completeExceptionally(new IllegalStateException("chromium exited before it listened: " + String.join("\n", lines)));
        }, "chromium-stderr");
        reader.setDaemon(true);
        reader.start();
        String ws;
        try {
            ws = url.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IllegalStateException("chromium did not start: " + String.join("\n", lines), e);
        }
        Chromium c = new Chromium(p, ws, lines);
        c.openPage();
        return c;
    }

    private Chromium(Process process, String wsUrl, List<String> stderr) throws InterruptedException {
        this.process = process;
        this.stderr.addAll(stderr);
        try {
            this.socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(20))
                    .buildAsync(URI.create(wsUrl), new Listener()).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IllegalStateException("cannot connect to chromium at " + wsUrl, e);
        }
    }

    private void openPage() {
        String target = browserCommand("Target.createTarget", Map.of("url", "about:blank")).get("targetId").asString();
        session = browserCommand("Target.attachToTarget", Map.of("targetId", target, "flatten", true)).get("sessionId").asString();
    }

    /** A command to the browser itself. */
    public JsonNode browserCommand(String method, Map<String, ?> params) {
        return send(null, method, params);
    }

    /** A command to the page (Runtime, Page, Emulation, Input, DOM, Network, Fetch ...); its result, or an error. */
    public JsonNode command(String method, Map<String, ?> params) {
        return send(session, method, params);
    }

    /** Receives every event of the page's session (method, params). */
    public void onEvent(Consumer<JsonNode> listener) {
        listeners.add(listener);
    }

    private JsonNode send(String sessionId, String method, Map<String, ?> params) {
        long id = ids.incrementAndGet();
        ObjectNode msg = JSON.createObjectNode();
        msg.put("id", id);
        msg.put("method", method);
        msg.set("params", JSON.valueToTree(params));
        if (sessionId != null) {
            msg.put("sessionId", sessionId);
        }
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        synchronized (socket) {
            socket.sendText(msg.toString(), true).join();
        }
        JsonNode reply;
        try {
            reply = answer.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(method + ": no answer from chromium", e);
        } finally {
            pending.remove(id);
        }
        if (reply.has("error")) {
            throw new IllegalStateException(method + ": " + reply.get("error"));
        }
        return reply.get("result");
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                JsonNode msg = JSON.readTree(text);
                if (msg.has("id")) {
                    CompletableFuture<JsonNode> f = pending.get(msg.get("id").asLong());
                    if (f != null) {
                        f.complete(msg);
                    }
                } else if (msg.has("method")) {
                    // handlers may send commands: not on the socket's own thread
                    CompletableFuture.runAsync(() -> listeners.forEach(l -> l.accept(msg)));
                }
            }
            ws.request(1);
            return null;
        }
    }

    @Override
    public void close() {
        try {
            browserCommand("Browser.close", Map.of());
        } catch (RuntimeException ignored) {
            // it may be gone already
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
