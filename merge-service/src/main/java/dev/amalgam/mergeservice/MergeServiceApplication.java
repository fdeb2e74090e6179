package dev.amalgam.mergeservice;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The merge service: the API that creates merge jobs and, in the worker role, the handler that runs them. */
@SpringBootApplication
public class MergeServiceApplication {

    /** Name of this application's configuration file (merge-service.yml). */
    public static final String CONFIG_NAME = "merge-service";

    /** The application with its own configuration file (merge-service.yml), so several can share one classpath. */
    public static SpringApplication application() {
        SpringApplication app = new SpringApplication(MergeServiceApplication.class);
        app.setDefaultProperties(java.util.Map.of("spring.config.name", CONFIG_NAME));
        return app;
    }

    public static void main(String[] args) {
        application().run(args);
    }
}
