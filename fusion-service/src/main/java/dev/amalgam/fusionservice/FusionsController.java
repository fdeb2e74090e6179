package dev.amalgam.fusionservice;

import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.web.JobSubmissions;
import dev.amalgam.platform.web.JobView;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** /api/v1/fusions. The WRPO handler is not built yet, so it answers 501 and creates no job. */
@RestController
class FusionsController {

    @PostMapping("/api/v1/fusions")
    ResponseEntity<JobView> fuse(Caller caller, @RequestBody(required = false) JsonNode spec) {
        throw JobSubmissions.notImplemented("Fusion (WRPO)");
    }
}
