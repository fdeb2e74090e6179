package dev.amalgam.e2e.echo;

import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.web.JobSubmissions;
import dev.amalgam.platform.web.JobView;
import dev.amalgam.platform.worker.JobContext;
import dev.amalgam.platform.worker.JobHandler;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * A test-only service with the shape of a real one: POST /api/v1/echoes validates a spec and queues an
 * "echo" job; its handler repeats a message into a REPORT artifact, reporting progress per step.
 */
@SpringBootApplication
public class EchoServiceApplication {

    @Bean
    JobHandler echoHandler() {
        return new JobHandler() {
            @Override
            public String type() {
                return "echo";
            }

            @Override
            public JsonNode handle(JobContext ctx) throws Exception {
                String message = ctx.spec().get("message").asString();
                int repeat = ctx.spec().get("repeat").asInt();
                long delayMs = ctx.spec().path("delayMs").asLong(0);
                StringBuilder out = new StringBuilder();
                for (int i = 0; i < repeat; i++) {
                    ctx.throwIfCancelled();
                    out.append(message).append('\n');
                    ctx.metrics(i, Map.of("length", out.length()));
                    ctx.progress((i + 1) / (double) repeat, "step " + (i + 1) + " of " + repeat);
                    Thread.sleep(delayMs);
                }
                var dir = ctx.newStagingDir();
                Files.writeString(dir.resolve("echo.txt"), out.toString());
                List<UUID> inputs = new ArrayList<>();
                if (ctx.spec().hasNonNull("input")) {
                    inputs.add(UUID.fromString(ctx.spec().get("input").asString()));
                }
                Artifact a = ctx.publish(ArtifactKind.REPORT, ctx.spec().get("output").asString(), dir, inputs);
                return ctx.json().valueToTree(Map.of("artifact", a.id().toString(), "lines", repeat));
            }
        };
    }

    @RestController
    static class EchoController {
        private final JobSubmissions submissions;
        private final ArtifactService artifacts;

        EchoController(JobSubmissions submissions, ArtifactService artifacts) {
            this.submissions = submissions;
            this.artifacts = artifacts;
        }

        @PostMapping("/api/v1/echoes")
        ResponseEntity<JobView> submit(Caller caller, @RequestBody JsonNode spec,
                                       @RequestHeader(value = "Idempotency-Key", required = false) String key) {
            JsonNode request = spec.deepCopy();
            var replayed = submissions.replay(caller, "echo", request, key);
            if (replayed.isPresent()) {
                return replayed.get();
            }
            List<String> errors = new ArrayList<>();
            if (!spec.path("message").isString() || spec.path("message").asString().isBlank()) {
                errors.add("message: required");
            }
            int repeat = spec.path("repeat").asInt(-1);
            if (repeat < 1 || repeat > 100) {
                errors.add("repeat: must be between 1 and 100");
            }
            if (!spec.path("output").isString()) {
                errors.add("output: the name of the report artifact is required");
            }
            List<UUID> inputs = new ArrayList<>();
            if (spec.hasNonNull("input")) {
                Artifact input = artifacts.resolve(caller.tenantId(), spec.get("input").asString(), ArtifactKind.DATASET, "input", errors);
                if (input != null) {
                    inputs.add(input.id());
                    // the stored spec names the exact artifact, even if the caller used a name
                    ((tools.jackson.databind.node.ObjectNode) spec).put("input", input.id().toString());
                }
            }
            if (!errors.isEmpty()) {
                throw ApiException.invalid(errors);
            }
            return submissions.submit(caller, "echo", 1, spec, 0, 2, key, inputs, request);
        }
    }
}
