package dev.amalgam.pruningservice;

import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.web.JobSubmissions;
import dev.amalgam.platform.web.JobView;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * /api/v1/prunings and /api/v1/evaluations. Their handlers (BlockPruner, perplexity evaluation) are not
 * built yet, so both answer 501 and create no job.
 */
@RestController
class PruningsController {

    @PostMapping("/api/v1/prunings")
    ResponseEntity<JobView> prune(Caller caller, @RequestBody(required = false) JsonNode spec) {
        throw JobSubmissions.notImplemented("Pruning (BlockPruner)");
    }

    @PostMapping("/api/v1/evaluations")
    ResponseEntity<JobView> evaluate(Caller caller, @RequestBody(required = false) JsonNode spec) {
        throw JobSubmissions.notImplemented("Perplexity evaluation");
    }
}
