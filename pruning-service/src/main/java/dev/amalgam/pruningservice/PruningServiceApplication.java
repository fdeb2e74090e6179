package dev.amalgam.pruningservice;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The pruning service: the API that creates pruning jobs and, in the worker role, the handler that runs them. */
@SpringBootApplication
public class PruningServiceApplication {

    /** Name of this application's configuration file (pruning-service.yml). */
    public static final String CONFIG_NAME = "pruning-service";

    /** The application with its own configuration file (pruning-service.yml), so several can share one classpath. */
    public static SpringApplication application() {
        SpringApplication app = new SpringApplication(PruningServiceApplication.class);
        app.setDefaultProperties(java.util.Map.of("spring.config.name", CONFIG_NAME));
        return app;
    }

    public static void main(String[] args) {
        application().run(args);
    }
}
