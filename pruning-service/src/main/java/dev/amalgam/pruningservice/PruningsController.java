package dev.amalgam.pruningservice;

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
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** /api/v1/evaluations (perplexity jobs) and /api/v1/prunings. */
@RestController
class PruningsController {

    private final JobSubmissions submissions;
    private final ArtifactService artifacts;

    PruningsController(JobSubmissions submissions, ArtifactService artifacts) {
        this.submissions = submissions;
        this.artifacts = artifacts;
    }

    @PostMapping("/api/v1/prunings")
    ResponseEntity<JobView> prune(Caller caller, @RequestBody(required = false) JsonNode spec) {
        throw JobSubmissions.notImplemented("Pruning (BlockPruner)");
    }

    @PostMapping("/api/v1/evaluations")
    @Operation(summary = "Queue a perplexity evaluation of a model on a dataset")
    ResponseEntity<JobView> evaluate(Caller caller, @RequestBody JsonNode spec,
                                     @RequestHeader(value = "Idempotency-Key", required = false) String idempotencyKey) {
        if (!spec.isObject()) {
            throw ApiException.invalid(List.of("body: a JSON object is required"));
        }
        List<String> errors = new ArrayList<>();
        EvaluationJobSpec.check(spec, errors);
        Artifact model = artifacts.resolve(caller.tenantId(), spec.path("model").asString(null), ArtifactKind.MODEL, "model", errors);
        Artifact dataset = artifacts.resolve(caller.tenantId(), spec.path("dataset").asString(null), ArtifactKind.DATASET, "dataset", errors);
        if (dataset != null && !dataset.metadata().path("format").asString("").equals("jsonl")) {
            errors.add("dataset: '" + dataset.name() + "' is not a single JSONL file");
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        ObjectNode stored = (ObjectNode) spec.deepCopy();
        stored.put("model", model.id().toString());
        stored.put("dataset", dataset.id().toString());
        stored.put("seqLen", EvaluationJobSpec.seqLen(spec));
        return submissions.submit(caller, EvaluationJobSpec.TYPE, EvaluationJobSpec.VERSION, stored, spec.path("priority").asInt(0),
                spec.path("maxAttempts").asInt(2), idempotencyKey, List.of(model.id(), dataset.id()));
    }
}
