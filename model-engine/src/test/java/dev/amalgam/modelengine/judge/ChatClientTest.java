package dev.amalgam.modelengine.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ChatClientTest {

    static final String KEY = "sk-test-0123456789abcdef";

    static ChatClient client(FakeJudgeServer server, double rpm, int maxRetries) {
        return new ChatClient(server.baseUrl(), "judge-model", KEY, new ChatClient.Options(rpm, maxRetries,
                Duration.ofMillis(20), Duration.ofSeconds(2), Duration.ofSeconds(10)), new Random(1));
    }

    static ChatClient.Request hello() {
        return new ChatClient.Request(List.of(new ChatClient.Message("system", "s"), new ChatClient.Message("user", "u")),
                0.0, 7, null);
    }

    @Test
    void sendsBearerKeyModelAndSamplingFieldsAndReadsTheFirstChoice() throws Exception {
        try (FakeJudgeServer server = new FakeJudgeServer(s -> FakeJudgeServer.Reply.ok("Rating: [[7]]"))) {
            ChatClient.Response r = client(server, 6000, 0).complete(hello());
            assertThat(r.content()).isEqualTo("Rating: [[7]]");
            FakeJudgeServer.Seen seen = server.seen.get(0);
            assertThat(seen.authorization()).isEqualTo("Bearer " + KEY);
            assertThat(seen.body().get("model").stringValue()).isEqualTo("judge-model");
            assertThat(seen.body().get("temperature").doubleValue()).isEqualTo(0.0);
            assertThat(seen.body().get("max_tokens").intValue()).isEqualTo(7);
            assertThat(seen.body().has("logprobs")).isFalse();
            assertThat(seen.body().get("messages").get(1).get("role").stringValue()).isEqualTo("user");
        }
    }

    @Test
    void asksForAndReadsTopLogprobs() throws Exception {
        try (FakeJudgeServer server = new FakeJudgeServer(s -> FakeJudgeServer.Reply.withLogprobs("M",
                new java.util.LinkedHashMap<>(Map.of("M", -0.1, "m", -2.5))))) {
            ChatClient.Response r = client(server, 6000, 0).complete(new ChatClient.Request(hello().messages(), 1.0, 1, 5));
            assertThat(server.seen.get(0).body().get("logprobs").booleanValue()).isTrue();
            assertThat(server.seen.get(0).body().get("top_logprobs").intValue()).isEqualTo(5);
            assertThat(r.firstTokenTopLogprobs()).containsExactlyInAnyOrder(new ChatClient.TokenLogprob("M", -0.1),
                    new ChatClient.TokenLogprob("m", -2.5));
        }
    }

    @Test
    void retries429AfterTheRetryAfterItGivesThenSucceeds() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (FakeJudgeServer server = new FakeJudgeServer(s -> calls.getAndIncrement() == 0
                ? new FakeJudgeServer.Reply(429, "{\"error\":{\"message\":\"Rate limit reached\"}}", Map.of("Retry-After", "1"))
                : FakeJudgeServer.Reply.ok("fine"))) {
            ChatClient.Response r = client(server, 6000, 3).complete(hello());
            assertThat(r.content()).isEqualTo("fine");
            assertThat(server.seen).hasSize(2);
            long gap = server.seen.get(1).nanoTime() - server.seen.get(0).nanoTime();
            // Retry-After: 1 second is honoured (the backoff alone would be 10..20 ms)
            assertThat(gap).isGreaterThanOrEqualTo(Duration.ofMillis(950).toNanos());
        }
    }

    @Test
    void persistent500FailsWithTheStatusAndTheEndpointsMessageAfterEveryRetry() throws Exception {
        try (FakeJudgeServer server = new FakeJudgeServer(s -> FakeJudgeServer.Reply.error(500, "the model is overloaded"))) {
            assertThatThrownBy(() -> client(server, 6000, 2).complete(hello()))
                    .isInstanceOfSatisfying(JudgeEndpointException.class, e -> {
                        assertThat(e.status()).isEqualTo(500);
                        assertThat(e.endpointMessage()).isEqualTo("the model is overloaded");
                        assertThat(e.attempts()).isEqualTo(3);
                        assertThat(e.getMessage()).contains("HTTP 500").contains("the model is overloaded");
                    });
            assertThat(server.seen).hasSize(3);
        }
    }

    @Test
    void a400IsNotRetried() throws Exception {
        try (FakeJudgeServer server = new FakeJudgeServer(s -> FakeJudgeServer.Reply.error(400, "max_tokens is too large"))) {
            assertThatThrownBy(() -> client(server, 6000, 5).complete(hello()))
                    .isInstanceOfSatisfying(JudgeEndpointException.class, e -> assertThat(e.status()).isEqualTo(400));
            assertThat(server.seen).hasSize(1);
        }
    }

    @Test
    void anEndpointThatEchoesTheKeyDoesNotGetItIntoTheMessage() throws Exception {
        try (FakeJudgeServer server = new FakeJudgeServer(s -> FakeJudgeServer.Reply.error(401,
                "Incorrect API key provided: " + s.authorization()))) {
            assertThatThrownBy(() -> client(server, 6000, 0).complete(hello()))
                    .isInstanceOfSatisfying(JudgeEndpointException.class, e -> {
                        assertThat(e.status()).isEqualTo(401);
                        assertThat(e.getMessage()).doesNotContain(KEY).contains("[redacted]");
                    });
        }
        assertThat(new ChatClient("http://x/v1", "m", KEY, new ChatClient.Options(1, 0, Duration.ZERO, Duration.ZERO,
                Duration.ofSeconds(1)), new Random()).toString()).doesNotContain(KEY);
    }

    @Test
    void anUnreachableEndpointFailsWithoutAStatusAfterItsRetries() throws Exception {
        String url;
        try (FakeJudgeServer server = new FakeJudgeServer(s -> FakeJudgeServer.Reply.ok("x"))) {
            url = server.baseUrl();
        }
        ChatClient c = new ChatClient(url, "m", KEY, new ChatClient.Options(6000, 1, Duration.ofMillis(5),
                Duration.ofMillis(10), Duration.ofSeconds(2)), new Random(1));
        assertThatThrownBy(() -> c.complete(hello())).isInstanceOfSatisfying(JudgeEndpointException.class, e -> {
            assertThat(e.status()).isEqualTo(-1);
            assertThat(e.attempts()).isEqualTo(2);
            assertThat(e.getMessage()).contains("unreachable");
        });
    }

    @Test
    void requestStartsAreSpacedByTheRateLimitRetriesIncluded() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        // every third request answers 503: the retries go through the limiter too
        try (FakeJudgeServer server = new FakeJudgeServer(s -> calls.incrementAndGet() % 3 == 0
                ? FakeJudgeServer.Reply.error(503, "busy") : FakeJudgeServer.Reply.ok("ok"))) {
            double rpm = 600; // one start every 100 ms
            ChatClient c = client(server, rpm, 3);
            for (int i = 0; i < 5; i++) {
                c.complete(hello());
            }
            assertThat(server.seen.size()).isGreaterThanOrEqualTo(7);
            long interval = (long) (60e9 / rpm);
            for (int i = 1; i < server.seen.size(); i++) {
                long gap = server.seen.get(i).nanoTime() - server.seen.get(i - 1).nanoTime();
                // the client starts requests >= interval apart; arrivals can differ by the loopback's jitter only
                // (without the limiter the gaps are a few milliseconds: half the interval still tells them apart)
                assertThat(gap).as("gap before request %d", i).isGreaterThanOrEqualTo(interval / 2);
            }
            // over the whole run the jitter of the ends only: n - 1 full intervals
            long span = server.seen.get(server.seen.size() - 1).nanoTime() - server.seen.get(0).nanoTime();
            assertThat(span).isGreaterThanOrEqualTo((server.seen.size() - 1) * interval - Duration.ofMillis(20).toNanos());
        }
    }

    @Test
    void retryAfterReadsSecondsAndHttpDates() {
        assertThat(ChatClient.retryAfter("3")).isEqualTo(Duration.ofSeconds(3));
        assertThat(ChatClient.retryAfter("0.5")).isEqualTo(Duration.ofMillis(500));
        assertThat(ChatClient.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT")).isEqualTo(Duration.ZERO);
        assertThat(ChatClient.retryAfter("soon")).isNull();
        assertThat(ChatClient.retryAfter(null)).isNull();
    }

    @Test
    void backoffDoublesIsCappedAndJittered() {
        ChatClient c = new ChatClient("http://x/v1", "m", null, new ChatClient.Options(60, 5, Duration.ofMillis(100),
                Duration.ofMillis(1000), Duration.ofSeconds(1)), new Random(7));
        for (int attempt = 1; attempt <= 6; attempt++) {
            long full = Math.min(100L << (attempt - 1), 1000);
            long ms = c.backoff(attempt, null).toMillis();
            assertThat(ms).as("attempt %d", attempt).isBetween(full / 2, full);
        }
        assertThat(c.backoff(1, "30")).isEqualTo(Duration.ofMillis(1000)); // Retry-After capped at maxBackoff
    }
}
