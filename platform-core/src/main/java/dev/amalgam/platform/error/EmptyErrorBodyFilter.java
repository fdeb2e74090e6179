package dev.amalgam.platform.error;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.ContentCachingResponseWrapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Gives a problem+json body to error answers that have none. Actuator answers some errors that way (an
 * unknown health group is a bare 404), and flushes them, so the body is held back until the answer is known.
 * Meant for endpoints with small answers only: it buffers them whole.
 */
public class EmptyErrorBodyFilter extends OncePerRequestFilter {

    private final JsonMapper json;

    public EmptyErrorBodyFilter(JsonMapper json) {
        this.json = json;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        ContentCachingResponseWrapper buffered = new ContentCachingResponseWrapper(response);
        chain.doFilter(request, buffered);
        if (buffered.getStatus() >= 400 && buffered.getContentSize() == 0 && !response.isCommitted() && !request.isAsyncStarted()) {
            ProblemErrorController.write(json, response, buffered.getStatus());
        } else {
            buffered.copyBodyToResponse();
        }
    }
}
