package dev.amalgam.mergeservice;

import dev.amalgam.merge.MergeRunner;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.web.JobSubmissions;
import dev.amalgam.platform.web.JobView;
import dev.amalgam.platform.web.SpecChecks;
import io.swagger.v3.oas.annotations.Operation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** /api/v1/merges: validates a merge spec completely, then queues a merge job. */
@RestController
class MergesController {

    private final JobSubmissions submissions;
    private final ArtifactService artifacts;
    private final JsonMapper json;

    MergesController(JobSubmissions submissions, ArtifactService artifacts, JsonMapper json) {
        this.submissions = submissions;
        this.artifacts = artifacts;
        this.json = json;
    }

    @PostMapping("/api/v1/merges")
    @Operation(summary = "Queue a merge: mergekit's config (JSON or YAML) with artifact ids or names as models")
    ResponseEntity<JobView> merge(Caller caller, @RequestBody JsonNode spec,
                                  @RequestHeader(value = "Idempotency-Key", required = false) String idempotencyKey) {
        if (!spec.isObject()) {
            throw ApiException.invalid(List.of("body: a JSON object is required"));
        }
        SpecChecks.requireStorableText(spec);
        // a retry of an earlier submission gets that job, even after it finished and took its output names
        var replayed = submissions.replay(caller, MergeJobSpec.TYPE, spec, idempotencyKey);
        if (replayed.isPresent()) {
            return replayed.get();
        }
        List<String> errors = new ArrayList<>();
        SpecChecks.JobSettings settings = MergeJobSpec.checkOptions(spec, errors);
        MergeConfig config = MergeJobSpec.config(spec, json, errors);
        Map<String, String> resolved = new LinkedHashMap<>();
        Map<String, Path> dirs = new LinkedHashMap<>();
        if (config != null) {
            errors.addAll(config.validate().stream().map(p -> "config: " + p).toList());
            for (String ref : config.referencedModels()) {
                Artifact a = artifacts.resolve(caller.tenantId(), ref, ArtifactKind.MODEL, "config: model '" + ref + "'", errors);
                if (a != null) {
                    resolved.put(ref, a.id().toString());
                    dirs.put(ref, Path.of(a.storagePath()));
                }
            }
        }
        if (ArtifactService.isValidName(spec.path("output").asString(null))) {
            artifacts.requireNamesFree(caller.tenantId(), "output", List.of(spec.get("output").asString()), errors);
        }
        if (errors.isEmpty()) {
            // architectures, tensor names and shapes, parameters: read from headers only, before queueing
            try {
                new MergeRunner().validate(config, dirs::get);
            } catch (MergeConfigException e) {
                e.problems().forEach(p -> errors.add("config: " + p));
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        List<UUID> inputs = resolved.values().stream().distinct().map(UUID::fromString).toList();
        return submissions.submit(caller, MergeJobSpec.TYPE, MergeJobSpec.VERSION, MergeJobSpec.stored(spec, resolved, json),
                settings.priority(), settings.maxAttempts(), idempotencyKey, inputs, spec);
    }
}
