package dev.amalgam.gateway.limits;

import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ProblemHandler;
import dev.amalgam.platform.error.ProblemType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.http.HttpStatus;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Request limits per API key at the gateway: a token bucket of {@code requestsPerMinute} that refills
 * continuously, answering 429 problem+json with Retry-After when empty. Runs after authentication, so
 * it counts only authenticated callers. Buckets are per gateway instance (with N replicas a key gets
 * up to N times the limit).
 */
public class RateLimitFilter extends OncePerRequestFilter {

    private final double perSecond;
    private final double capacity;
    private final JsonMapper json;
    private final Map<UUID, Bucket> buckets = new ConcurrentHashMap<>();

    public RateLimitFilter(int requestsPerMinute, JsonMapper json) {
        this.perSecond = requestsPerMinute / 60.0;
        this.capacity = requestsPerMinute;
        this.json = json;
    }

    /** Tokens left and when they were last counted. */
    private static final class Bucket {
        double tokens;
        long lastNanos;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.lastNanos = now;
        }
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith("/api/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Object caller = request.getAttribute(Caller.ATTRIBUTE);
        if (caller instanceof Caller c && !take(c.keyId())) {
            long retryAfter = (long) Math.ceil(1 / perSecond);
            response.setHeader("Retry-After", Long.toString(retryAfter));
            ProblemHandler.write(response, json, HttpStatus.TOO_MANY_REQUESTS, ProblemType.TOO_MANY_REQUESTS,
                    "More than " + (long) capacity + " requests per minute with this API key; retry in " + retryAfter + " s");
            return;
        }
        chain.doFilter(request, response);
    }

    private boolean take(UUID key) {
        long now = System.nanoTime();
        Bucket b = buckets.computeIfAbsent(key, k -> new Bucket(capacity, now));
        synchronized (b) {
            b.tokens = Math.min(capacity, b.tokens + (now - b.lastNanos) / 1e9 * perSecond);
            b.lastNanos = now;
            if (b.tokens < 1) {
                return false;
            }
            b.tokens -= 1;
            return true;
        }
    }
}
