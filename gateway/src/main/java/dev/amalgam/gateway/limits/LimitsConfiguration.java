package dev.amalgam.gateway.limits;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import tools.jackson.databind.json.JsonMapper;

/** The gateway's request limits ({@code amalgam.gateway.requests-per-minute}, per API key; 0 disables). */
@Configuration
class LimitsConfiguration {

    @Bean
    FilterRegistrationBean<RateLimitFilter> rateLimitFilter(@Value("${amalgam.gateway.requests-per-minute:600}") int perMinute,
                                                            JsonMapper json) {
        var registration = new FilterRegistrationBean<>(new RateLimitFilter(Math.max(perMinute, 1), json));
        registration.addUrlPatterns("/api/*");
        // after the API key filter (HIGHEST_PRECEDENCE + 10), which identifies the caller
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 20);
        registration.setEnabled(perMinute > 0);
        return registration;
    }
}
