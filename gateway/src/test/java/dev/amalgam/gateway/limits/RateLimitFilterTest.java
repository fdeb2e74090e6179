package dev.amalgam.gateway.limits;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.platform.auth.Caller;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/** The token bucket: a burst up to the limit passes, the next request gets 429 problem+json; keys are separate. */
class RateLimitFilterTest {

    final RateLimitFilter filter = new RateLimitFilter(5, JsonMapper.builder().build());

    MockHttpServletResponse call(UUID key) throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/api/v1/jobs");
        request.setAttribute(Caller.ATTRIBUTE, new Caller(UUID.randomUUID(), "t", key, false));
        MockHttpServletResponse response = new MockHttpServletResponse();
        filter.doFilter(request, response, new MockFilterChain());
        return response;
    }

    @Test
    void aBurstOverTheLimitIsRefusedWithRetryAfter() throws Exception {
        UUID key = UUID.randomUUID();
        for (int i = 0; i < 5; i++) {
            assertThat(call(key).getStatus()).isEqualTo(200);
        }
        MockHttpServletResponse refused = call(key);
        assertThat(refused.getStatus()).isEqualTo(429);
        assertThat(refused.getHeader("Retry-After")).isEqualTo("12");
        assertThat(refused.getContentType()).isEqualTo("application/problem+json");
        assertThat(refused.getContentAsString()).contains("too-many-requests").contains("5 requests per minute");
        assertThat(call(UUID.randomUUID()).getStatus()).as("another key has its own bucket").isEqualTo(200);
    }
}
