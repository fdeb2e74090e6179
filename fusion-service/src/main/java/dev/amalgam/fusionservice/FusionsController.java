package dev.amalgam.fusionservice;

import dev.amalgam.fusion.FusionRunner;
import dev.amalgam.fusion.FusionSpec;
import dev.amalgam.fusion.WrpoPipeline;
import dev.amalgam.fusion.build.BuildSettings;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.web.JobSubmissions;
import dev.amalgam.platform.web.JobView;
import dev.amalgam.platform.web.SpecChecks;
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
        SpecChecks.requireStorableText(spec);
        // a retry of an earlier submission gets that job, even after it finished and took its output names
        var replayed = submissions.replay(caller, FusionJobSpec.TYPE, spec, idempotencyKey);
        if (replayed.isPresent()) {
            return replayed.get();
        }
        List<String> errors = new ArrayList<>();
        FusionSpec training = FusionJobSpec.trainingSpec(spec, errors);
        SpecChecks.JobSettings settings = SpecChecks.jobSettings(spec, FusionJobSpec.DEFAULT_MAX_ATTEMPTS, errors);
        Artifact target = artifacts.resolve(caller.tenantId(), spec.path("target").asString(null), ArtifactKind.MODEL, "target", errors);
        boolean fromCandidates = spec.hasNonNull("candidates");
        if (fromCandidates == spec.hasNonNull("data")) {
            errors.add("data: give exactly one of 'data' (preference records) or 'candidates' (prompts with source responses)");
        }
        Artifact data = dataset(caller, spec, fromCandidates ? "candidates" : "data", true, errors);
        Artifact rewardModel = spec.hasNonNull("rewardModel")
                ? artifacts.resolve(caller.tenantId(), spec.get("rewardModel").asString(null), ArtifactKind.MODEL, "rewardModel", errors) : null;
        if (rewardModel != null && !fromCandidates) {
            errors.add("rewardModel: only used with 'candidates'");
        }
        BuildSettings build = null;
        if (fromCandidates) {
            build = FusionJobSpec.buildSettings(spec, errors);
        } else if (spec.has("build")) {
            errors.add("build: only used with 'candidates'");
        }
        if (target != null && training != null && (!fromCandidates || build != null)) {
            // lengths are checked against the target's context, from its config.json alone
            errors.addAll(fromCandidates ? WrpoPipeline.validate(training, build, target.dir())
                    : FusionRunner.validate(training, target.dir()));
        }
        Artifact eval = dataset(caller, spec, "evalData", false, errors);
        String name = spec.path("name").asString(null);
        if (name == null || name.isBlank()) {
            errors.add("name: the name of the trained MODEL artifact is required");
        } else {
            int before = errors.size();
            SpecChecks.checkOutputNames("name", FusionJobSpec.outputNames(name, fromCandidates), errors);
            if (errors.size() == before) {
                artifacts.requireNamesFree(caller.tenantId(), "name",
                        List.of(name, FusionJobSpec.reportName(name), FusionJobSpec.preferencesName(name)), errors);
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        ObjectNode stored = (ObjectNode) spec.deepCopy();
        stored.put("target", target.id().toString());
        stored.put(fromCandidates ? "candidates" : "data", data.id().toString());
        List<UUID> inputs = new ArrayList<>(List.of(target.id(), data.id()));
        if (rewardModel != null) {
            stored.put("rewardModel", rewardModel.id().toString());
            inputs.add(rewardModel.id());
        }
        if (eval != null) {
            stored.put("evalData", eval.id().toString());
            inputs.add(eval.id());
        }
        return submissions.submit(caller, FusionJobSpec.TYPE, FusionJobSpec.VERSION, stored, settings.priority(),
                settings.maxAttempts(), idempotencyKey, inputs, spec);
    }

    private Artifact dataset(Caller caller, JsonNode spec, String field, boolean required, List<String> errors) {
        return !required && !spec.hasNonNull(field) ? null
                : artifacts.resolveJsonl(caller.tenantId(), spec.path(field).asString(null), field, errors);
    }
}
