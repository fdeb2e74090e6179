package dev.amalgam.fusionservice;

import static dev.amalgam.platform.testing.TestApps.ADMIN_KEY;

import dev.amalgam.platform.testing.TestApps;
import dev.amalgam.platform.testing.TestDatabase;
import dev.amalgam.platform.testing.TestHttp;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/** The fusion service refuses work it cannot do yet: 501 problem+json, never a queued job. */
class FusionServiceTest {

    @TempDir
    static Path dataDir;

    static ConfigurableApplicationContext service;
    static TestHttp api;

    @BeforeAll
    static void start() {
        service = TestApps.start(FusionServiceApplication.application(), TestDatabase.newDatabase(), dataDir, Map.of());
        api = new TestHttp(TestApps.baseUrl(service));
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void fusionAnswers501AndRequiresAKey() throws Exception {
        TestHttp.assertProblem(api.call("POST", "/api/v1/fusions", ADMIN_KEY, "{}"), 501, "not-implemented");
        TestHttp.assertProblem(api.call("POST", "/api/v1/fusions", null, "{}"), 401, "unauthorized");
    }
}
