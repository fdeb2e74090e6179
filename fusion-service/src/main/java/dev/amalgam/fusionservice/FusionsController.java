package dev.amalgam.fusionservice;

import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.web.JobSubmissions;
import dev.amalgam.platform.web.JobView;
import io.swagger.v3.oas.annotations.Operation;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** /api/v1/fusions: validates a WRPO fusion spec and its artifacts, then queues a fusion job. */
@RestController
class FusionsController {

    private final JobSubmissions submissions;
    private final ArtifactService artifacts;

    FusionsController(JobSubmissions submissions, ArtifactService artifacts) {
        this.submissions = submissions;
        this.artifacts = artifacts;
    }

    @PostMapping("/api/v1/fusions")
    @Operation(summary = "Queue a fusion job: target SFT then WRPO (or DPO/IPO/SimPO) on preference data")
    ResponseEntity<JobView> fuse(Caller caller, @RequestBody JsonNode spec,
                                 @RequestHeader(value = "Idempotency-Key", required = false) String idempotencyKey) {
        if (!spec.isObject()) {
            throw ApiException.invalid(List.of("body: a JSON object is required"));
        }
        List<String> errors = new ArrayList<>();
        FusionJobSpec.trainingSpec(spec, errors);
        Artifact target = artifacts.resolve(caller.tenantId(), spec.path("target").asString(null), ArtifactKind.MODEL, "target", errors);
        Artifact data = dataset(caller, spec, "data", true, errors);
        Artifact eval = dataset(caller, spec, "evalData", false, errors);
        String name = spec.path("name").asString(null);
        if (name == null || name.isBlank()) {
            errors.add("name: the name of the trained MODEL artifact is required");
        } else if (artifacts.exists(caller.tenantId(), name) || artifacts.exists(caller.tenantId(), FusionJobSpec.reportName(name))) {
            errors.add("name: an artifact named '" + name + "' or '" + FusionJobSpec.reportName(name) + "' already exists");
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        ObjectNode stored = (ObjectNode) spec.deepCopy();
        stored.put("target", target.id().toString());
        stored.put("data", data.id().toString());
        List<UUID> inputs = new ArrayList<>(List.of(target.id(), data.id()));
        if (eval != null) {
            stored.put("evalData", eval.id().toString());
            inputs.add(eval.id());
        }
        return submissions.submit(caller, FusionJobSpec.TYPE, FusionJobSpec.VERSION, stored, spec.path("priority").asInt(0),
                spec.path("maxAttempts").asInt(3), idempotencyKey, inputs);
    }

    private Artifact dataset(Caller caller, JsonNode spec, String field, boolean required, List<String> errors) {
        return !required && !spec.hasNonNull(field) ? null
                : artifacts.resolveJsonl(caller.tenantId(), spec.path(field).asString(null), field, errors);
    }
}
