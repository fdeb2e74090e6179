package dev.amalgam.pruningservice;

import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.web.JobSubmissions;
import dev.amalgam.platform.web.JobView;
import dev.amalgam.platform.web.SpecChecks;
import dev.amalgam.pruning.PruneSpec;
import io.swagger.v3.oas.annotations.Operation;
import java.util.ArrayList;
import java.util.List;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** /api/v1/prunings (BlockPruner and baselines) and /api/v1/evaluations (perplexity). */
@RestController
class PruningsController {

    private final JobSubmissions submissions;
    private final ArtifactService artifacts;

    PruningsController(JobSubmissions submissions, ArtifactService artifacts) {
        this.submissions = submissions;
        this.artifacts = artifacts;
    }

    @PostMapping("/api/v1/prunings")
    @Operation(summary = "Queue a pruning job (BlockPruner or a baseline) of a model with a calibration dataset")
    ResponseEntity<JobView> prune(Caller caller, @RequestBody JsonNode spec,
                                  @RequestHeader(value = "Idempotency-Key", required = false) String idempotencyKey) {
        if (!spec.isObject()) {
            throw ApiException.invalid(List.of("body: a JSON object is required"));
        }
        SpecChecks.requireStorableText(spec);
        // a retry of an earlier submission gets that job, even after it finished and took its output names
        var replayed = submissions.replay(caller, PruningJobSpec.TYPE, spec, idempotencyKey);
        if (replayed.isPresent()) {
            return replayed.get();
        }
        List<String> errors = new ArrayList<>();
        PruneSpec pruneSpec = PruningJobSpec.pruneSpec(spec, errors);
        SpecChecks.JobSettings settings = SpecChecks.jobSettings(spec, PruningJobSpec.DEFAULT_MAX_ATTEMPTS, errors);
        Artifact model = artifacts.resolve(caller.tenantId(), spec.path("model").asString(null), ArtifactKind.MODEL, "model", errors);
        Artifact dataset = jsonlDataset(caller, spec, "dataset", true, errors);
        Artifact eval = jsonlDataset(caller, spec, "evalDataset", false, errors);
        String name = spec.path("name").asString(null);
        if (name == null || name.isBlank()) {
            errors.add("name: the name of the pruned MODEL artifact is required");
        } else {
            int before = errors.size();
            SpecChecks.checkOutputNames("name", PruningJobSpec.outputNames(name), errors);
            if (errors.size() == before) {
                artifacts.requireNamesFree(caller.tenantId(), "name", List.copyOf(PruningJobSpec.outputNames(name).values()), errors);
            }
        }
        if (model != null && pruneSpec != null) {
            // block counts and ratios are checked against the model's own shape, from its config.json alone
            try (var dir = HfModelDir.open(model.dir())) {
                errors.addAll(pruneSpec.validateFor(LlamaConfig.fromJson(dir.config())));
            } catch (RuntimeException e) {
                errors.add("model: " + e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        ObjectNode stored = (ObjectNode) spec.deepCopy();
        stored.put("model", model.id().toString());
        stored.put("dataset", dataset.id().toString());
        List<java.util.UUID> inputs = new ArrayList<>(List.of(model.id(), dataset.id()));
        if (eval != null) {
            stored.put("evalDataset", eval.id().toString());
            inputs.add(eval.id());
        }
        return submissions.submit(caller, PruningJobSpec.TYPE, PruningJobSpec.VERSION, stored, settings.priority(),
                settings.maxAttempts(), idempotencyKey, inputs, spec);
    }

    private Artifact jsonlDataset(Caller caller, JsonNode spec, String field, boolean required, List<String> errors) {
        return !required && !spec.hasNonNull(field) ? null
                : artifacts.resolveJsonl(caller.tenantId(), spec.path(field).asString(null), field, errors);
    }

    @PostMapping("/api/v1/evaluations")
    @Operation(summary = "Queue a perplexity evaluation of a model on a dataset")
    ResponseEntity<JobView> evaluate(Caller caller, @RequestBody JsonNode spec,
                                     @RequestHeader(value = "Idempotency-Key", required = false) String idempotencyKey) {
        if (!spec.isObject()) {
            throw ApiException.invalid(List.of("body: a JSON object is required"));
        }
        SpecChecks.requireStorableText(spec);
        // a retry of an earlier submission gets that job, even after it finished and took its output names
        var replayed = submissions.replay(caller, EvaluationJobSpec.TYPE, spec, idempotencyKey);
        if (replayed.isPresent()) {
            return replayed.get();
        }
        List<String> errors = new ArrayList<>();
        SpecChecks.JobSettings settings = EvaluationJobSpec.check(spec, errors);
        Artifact model = artifacts.resolve(caller.tenantId(), spec.path("model").asString(null), ArtifactKind.MODEL, "model", errors);
        Artifact dataset = jsonlDataset(caller, spec, "dataset", true, errors);
        if (model != null && errors.isEmpty()) {
            // the sequence length is checked against the model's context, from its config.json alone
            try {
                EvaluationJobSpec.checkFor(spec, LlamaConfig.read(model.dir().resolve(HfModelDir.CONFIG_FILE)), errors);
            } catch (RuntimeException e) {
                errors.add("model: " + e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        ObjectNode stored = (ObjectNode) spec.deepCopy();
        stored.put("model", model.id().toString());
        stored.put("dataset", dataset.id().toString());
        stored.put("seqLen", EvaluationJobSpec.seqLen(spec));
        return submissions.submit(caller, EvaluationJobSpec.TYPE, EvaluationJobSpec.VERSION, stored, settings.priority(),
                settings.maxAttempts(), idempotencyKey, List.of(model.id(), dataset.id()), spec);
    }
}
