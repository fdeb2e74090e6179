package dev.amalgam.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The single entry of the platform: routes job-creating requests to the services, and serves the
 * job and artifact registries, admin endpoints, OpenAPI and the dashboard itself.
 */
@SpringBootApplication
public class GatewayApplication {

    /** Name of this application's configuration file (gateway.yml). */
    public static final String CONFIG_NAME = "gateway";

    /** The application with its own configuration file (gateway.yml), so several can share one classpath. */
    public static SpringApplication application() {
        SpringApplication app = new SpringApplication(GatewayApplication.class);
        app.setDefaultProperties(java.util.Map.of("spring.config.name", CONFIG_NAME));
        return app;
    }

    public static void main(String[] args) {
        application().run(args);
    }
}
