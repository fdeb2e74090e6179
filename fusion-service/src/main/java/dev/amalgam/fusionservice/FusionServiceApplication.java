package dev.amalgam.fusionservice;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The fusion service: the API that creates fusion jobs and, in the worker role, the handler that runs them. */
@SpringBootApplication
public class FusionServiceApplication {

    /** Name of this application's configuration file (fusion-service.yml). */
    public static final String CONFIG_NAME = "fusion-service";

    /** The application with its own configuration file (fusion-service.yml), so several can share one classpath. */
    public static SpringApplication application() {
        SpringApplication app = new SpringApplication(FusionServiceApplication.class);
        app.setDefaultProperties(java.util.Map.of("spring.config.name", CONFIG_NAME));
        return app;
    }

    public static void main(String[] args) {
        application().run(args);
    }
}
