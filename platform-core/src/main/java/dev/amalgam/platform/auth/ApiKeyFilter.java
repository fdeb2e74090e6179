package dev.amalgam.platform.auth;

import dev.amalgam.platform.error.ProblemHandler;
import dev.amalgam.platform.error.ProblemType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Authenticates every {@code /api/} request with {@code Authorization: Bearer <key>}; answers 401
 * problem+json otherwise. Each service checks keys itself against the shared registry, so no
 * service trusts a header set by another.
 */
public class ApiKeyFilter extends OncePerRequestFilter {

    private final ApiKeyService keys;
    private final JsonMapper json;

    public ApiKeyFilter(ApiKeyService keys, JsonMapper json) {
        this.keys = keys;
        this.json = json;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith("/api/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader("Authorization");
        Optional<Caller> caller = Optional.empty();
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            try {
                caller = keys.authenticate(header.substring(7).trim());
            } catch (RuntimeException e) {
                if (!dev.amalgam.platform.job.DatabaseRetry.isTransient(e)) {
                    throw e;
                }
                // the key cannot be checked while the registry is unreachable: say so, as the API would
                response.setHeader("Retry-After", "5");
                ProblemHandler.write(response, json, HttpStatus.SERVICE_UNAVAILABLE, ProblemType.UNAVAILABLE,
                        "The job registry is unreachable for the moment; retry in a few seconds");
                return;
            }
        }
        if (caller.isEmpty()) {
            response.setHeader("WWW-Authenticate", "Bearer");
            ProblemHandler.write(response, json, HttpStatus.UNAUTHORIZED, ProblemType.UNAUTHORIZED,
                    header == null ? "Send your API key as 'Authorization: Bearer <key>'" : "The API key is unknown or revoked");
            return;
        }
        request.setAttribute(Caller.ATTRIBUTE, caller.get());
        chain.doFilter(request, response);
    }
}
