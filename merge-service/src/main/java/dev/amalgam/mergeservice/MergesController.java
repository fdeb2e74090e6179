package dev.amalgam.mergeservice;

import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.web.JobSubmissions;
import dev.amalgam.platform.web.JobView;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** /api/v1/merges. */
@RestController
class MergesController {

    @PostMapping("/api/v1/merges")
    ResponseEntity<JobView> merge(Caller caller, @RequestBody(required = false) JsonNode spec) {
        throw JobSubmissions.notImplemented("Merging");
    }
}
