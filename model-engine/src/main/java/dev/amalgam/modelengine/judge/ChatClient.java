package dev.amalgam.modelengine.judge;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A client of an OpenAI-compatible chat endpoint: {@code POST {baseUrl}/chat/completions} with a Bearer key, on
 * {@link java.net.http}. Failures that may pass (HTTP 429, 5xx, no connection, a timeout) are retried up to
 * {@code maxRetries} times with exponential backoff and jitter, honouring the endpoint's {@code Retry-After};
 * every request start (retries included) goes through a {@link RateLimiter}. Other statuses fail at once.
 * The key is sent in the Authorization header only: it is in no message, exception or {@link #toString()}.
 */
public final class ChatClient {

    /** A chat message. */
    public record Message(String role, String content) {
        public Message {
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(content, "content");
        }
    }

    /**
     * One completion request.
     *
     * @param topLogprobs null for none, else the number of most likely first tokens to return with their log-probabilities
     */
    public record Request(List<Message> messages, double temperature, int maxTokens, Integer topLogprobs) {
        public Request {
            messages = List.copyOf(messages);
        }
    }

    /** A token and its log-probability. */
    public record TokenLogprob(String token, double logprob) {
    }

    /**
     * The first choice of a completion.
     *
     * @param firstTokenTopLogprobs the most likely first tokens, or an empty list when none were asked or given
     */
    public record Response(String content, List<TokenLogprob> firstTokenTopLogprobs) {
        public Response {
            firstTokenTopLogprobs = List.copyOf(firstTokenTopLogprobs);
        }
    }

    /**
     * How the client talks to the endpoint.
     *
     * @param requestsPerMinute the most request starts a minute (retries included)
     * @param maxRetries retries of a failure that may pass, after the first attempt
     * @param initialBackoff the backoff before the first retry; it doubles on each retry
     * @param maxBackoff the longest backoff, and the longest Retry-After honoured
     * @param timeout the longest a request may take, connecting included
     */
    public record Options(double requestsPerMinute, int maxRetries, Duration initialBackoff, Duration maxBackoff,
                          Duration timeout) {
        public Options {
            if (maxRetries < 0) {
                throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
            }
        }
    }

    private static final int MAX_MESSAGE_CHARS = 500;

    private final String baseUrl;
    private final String model;
    private final String apiKey;
    private final Options options;
    private final RateLimiter limiter;
    private final HttpClient http;
    private final Random jitter;
    private final JsonMapper json = JsonMapper.builder().build();

    /**
     * @param baseUrl the API root, e.g. {@code https://api.openai.com/v1} (a trailing slash is dropped)
     * @param apiKey the Bearer key, or null for an endpoint that wants none
     */
    public ChatClient(String baseUrl, String model, String apiKey, Options options, Random jitter) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.model = Objects.requireNonNull(model, "model");
        this.apiKey = apiKey;
        this.options = options;
        this.limiter = new RateLimiter(options.requestsPerMinute());
        this.jitter = jitter;
        this.http = HttpClient.newBuilder().connectTimeout(options.timeout()).build();
    }

    /** The chat completions URL. */
    public String url() {
        return baseUrl + "/chat/completions";
    }

    public String model() {
        return model;
    }

    /** The first choice of the completion; throws {@link JudgeEndpointException} once retries are spent. */
    public Response complete(Request request) throws InterruptedException {
        String body = body(request);
        int attempts = 0;
        while (true) {
            attempts++;
            limiter.acquire();
            HttpResponse<String> response;
            try {
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url()))
                        .timeout(options.timeout())
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
                if (apiKey != null) {
                    b.header("Authorization", "Bearer " + apiKey);
                }
                response = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                String what = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
                if (attempts > options.maxRetries()) {
                    throw new JudgeEndpointException(url(), -1, redact(what), attempts);
                }
                Thread.sleep(backoff(attempts, null).toMillis());
                continue;
            }
            int status = response.statusCode();
            if (status / 100 == 2) {
                return parse(response.body(), attempts);
            }
            boolean retried = status == 429 || status / 100 == 5;
            if (!retried || attempts > options.maxRetries()) {
                throw new JudgeEndpointException(url(), status, redact(errorMessage(response.body())), attempts);
            }
            Thread.sleep(backoff(attempts, response.headers().firstValue("Retry-After").orElse(null)).toMillis());
        }
    }

    /**
     * The wait before retry {@code attempt} (1-based): the endpoint's Retry-After when it gives one (capped at
     * maxBackoff), else initialBackoff * 2^(attempt-1), capped, times a uniform jitter in [0.5, 1).
     */
    Duration backoff(int attempt, String retryAfter) {
        Duration asked = retryAfter(retryAfter);
        if (asked != null) {
            return asked.compareTo(options.maxBackoff()) > 0 ? options.maxBackoff() : asked;
        }
        double ms = options.initialBackoff().toMillis() * Math.pow(2, Math.min(attempt - 1, 30));
        ms = Math.min(ms, options.maxBackoff().toMillis());
        return Duration.ofMillis((long) (ms * (0.5 + 0.5 * jitter.nextDouble())));
    }

    /** Retry-After as seconds or as an HTTP date; null when absent or unreadable. */
    static Duration retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        if (v.matches("[0-9]{1,9}(\\.[0-9]+)?")) {
            return Duration.ofMillis((long) (Double.parseDouble(v) * 1000));
        }
        try {
            Duration d = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME));
            return d.isNegative() ? Duration.ZERO : d;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private String body(Request request) {
        ObjectNode b = json.createObjectNode();
        b.put("model", model);
        ArrayNode messages = b.putArray("messages");
        for (Message m : request.messages()) {
            messages.addObject().put("role", m.role()).put("content", m.content());
        }
        b.put("temperature", request.temperature());
        b.put("max_tokens", request.maxTokens());
        if (request.topLogprobs() != null) {
            b.put("logprobs", true);
            b.put("top_logprobs", request.topLogprobs());
        }
        return json.writeValueAsString(b);
    }

    private Response parse(String body, int attempts) {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (JacksonException e) {
            throw new JudgeEndpointException(url(), 200, "the response is not JSON: " + shorten(body), attempts);
        }
        JsonNode choice = root.path("choices").path(0);
        JsonNode content = choice.path("message").path("content");
        if (!content.isString()) {
            throw new JudgeEndpointException(url(), 200, "the response has no choices[0].message.content string: "
                    + shorten(body), attempts);
        }
        List<TokenLogprob> top = new ArrayList<>();
        for (JsonNode t : choice.path("logprobs").path("content").path(0).path("top_logprobs")) {
            if (t.path("token").isString() && t.path("logprob").isNumber()) {
                top.add(new TokenLogprob(t.get("token").stringValue(), t.get("logprob").doubleValue()));
            }
        }
        return new Response(content.stringValue(), top);
    }

    /** The endpoint's own message: OpenAI's {"error": {"message"}}, a top-level "message"/"error" string, or the body. */
    private String errorMessage(String body) {
        try {
            JsonNode root = json.readTree(body);
            JsonNode m = root.path("error").path("message");
            if (m.isString()) {
                return shorten(m.stringValue());
            }
            if (root.path("error").isString()) {
                return shorten(root.get("error").stringValue());
            }
            if (root.path("message").isString()) {
                return shorten(root.get("message").stringValue());
            }
        } catch (JacksonException e) {
            // not JSON: the body itself is the message
        }
        return body == null || body.isBlank() ? "(empty body)" : shorten(body);
    }

    /** An endpoint that echoes the request's headers must not get the key into a message. */
    private String redact(String message) {
        return apiKey == null || apiKey.isEmpty() ? message : message.replace(apiKey, "[redacted]");
    }

    private static String shorten(String s) {
        String one = s.strip();
        return one.length() <= MAX_MESSAGE_CHARS ? one : one.substring(0, MAX_MESSAGE_CHARS) + "...";
    }

    @Override
    public String toString() {
        return "ChatClient[" + url() + ", model " + model + (apiKey == null ? ", no key" : ", key set") + "]";
    }
}
