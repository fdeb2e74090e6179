package dev.amalgam.platform.web;

import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.job.NewJob;
import java.net.URI;
import java.util.List;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.JsonNode;

/**
 * What every job-creating endpoint does once its spec is valid: insert the job (idempotently) and
 * answer 202 Accepted with the job and its Location.
 */
public class JobSubmissions {

    private final JobService jobs;
    private final ArtifactRepository artifacts;

    public JobSubmissions(JobService jobs, ArtifactRepository artifacts) {
        this.jobs = jobs;
        this.artifacts = artifacts;
    }

    /**
     * @param idempotencyKey the Idempotency-Key header, or null
     * @param inputs         artifacts the job reads (lineage, and protection from deletion)
     */
    public ResponseEntity<JobView> submit(Caller caller, String type, int specVersion, JsonNode spec, int priority,
                                          int maxAttempts, String idempotencyKey, List<UUID> inputs) {
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > 255)) {
            throw ApiException.invalid(List.of("Idempotency-Key: must be 1-255 characters"));
        }
        var submission = jobs.submit(new NewJob(caller.tenantId(), type, specVersion, spec, priority, maxAttempts,
                idempotencyKey, inputs));
        var job = submission.job();
        return ResponseEntity.status(HttpStatus.ACCEPTED)
                .location(URI.create("/api/v1/jobs/" + job.id()))
                .header("Idempotent-Replayed", Boolean.toString(submission.replayed()))
                .body(JobView.of(job, artifacts.lineageOfJob(job.id())));
    }
}
