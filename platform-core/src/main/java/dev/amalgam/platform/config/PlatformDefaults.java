package dev.amalgam.platform.config;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Defaults every Amalgam process shares, below every other source (a service's YAML file, the environment
 * and the command line all win), so they are defined once for `amalgam up`, `amalgam serve`, the compose
 * file and Kubernetes alike.
 *
 * <p>Logging: DJL's "no CUDA device" warnings on CPU-only machines are silenced.
 *
 * <p>Database timeouts: when PostgreSQL stalls or restarts, a request or a health check answers within
 * seconds (503, DOWN) instead of hanging on a dead socket, and the workers' retries take over.
 */
public class PlatformDefaults implements EnvironmentPostProcessor {

    static final Map<String, Object> DEFAULTS;

    static {
        Map<String, Object> d = new LinkedHashMap<>();
        // waiting for a pooled connection
        d.put("spring.datasource.hikari.connection-timeout", "5000");
        d.put("spring.datasource.hikari.validation-timeout", "3000");
        // pgjdbc, in seconds: TCP connect, the whole login, and any one read (no registry statement takes this long)
        d.put("spring.datasource.hikari.data-source-properties.connectTimeout", "5");
        d.put("spring.datasource.hikari.data-source-properties.loginTimeout", "5");
        d.put("spring.datasource.hikari.data-source-properties.socketTimeout", "15");
        // DJL warns on every CPU-only start that it found no CUDA device; a CPU worker is not a fault
        d.put("logging.level.ai.djl.util.cuda", "ERROR");
        DEFAULTS = Map.copyOf(d);
    }

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        environment.getPropertySources().addLast(new MapPropertySource("amalgamPlatformDefaults", DEFAULTS));
    }
}
