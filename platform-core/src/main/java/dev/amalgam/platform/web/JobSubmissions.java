package dev.amalgam.platform.web;

import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.job.NewJob;
import java.net.URI;
import java.util.List;
import java.util.Optional;
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
     * The answer to a retry of an earlier submission with the same Idempotency-Key and body, if this is one:
     * endpoints call it first, before validating, so a retry after the job finished gets the first job (202)
     * rather than "the output name is taken".
     *
     * @param request the request body as the client sent it
     */
    public Optional<ResponseEntity<JobView>> replay(Caller caller, String type, JsonNode request, String idempotencyKey) {
        checkKey(idempotencyKey);
        return jobs.replay(caller.tenantId(), type, idempotencyKey, fingerprint(request)).map(job -> accepted(job, true));
    }

    /**
     * @param idempotencyKey the Idempotency-Key header, or null
     * @param inputs         artifacts the job reads (lineage, and protection from deletion)
     * @param request        the request body as the client sent it (its fingerprint identifies a retry)
     */
    public ResponseEntity<JobView> submit(Caller caller, String type, int specVersion, JsonNode spec, int priority,
                                          int maxAttempts, String idempotencyKey, List<UUID> inputs, JsonNode request) {
        checkKey(idempotencyKey);
        var submission = jobs.submit(new NewJob(caller.tenantId(), type, specVersion, spec, priority, maxAttempts,
                idempotencyKey, inputs, request == null ? null : fingerprint(request)));
        return accepted(submission.job(), submission.replayed());
    }

    private ResponseEntity<JobView> accepted(Job job, boolean replayed) {
        return ResponseEntity.status(HttpStatus.ACCEPTED)
                .location(URI.create("/api/v1/jobs/" + job.id()))
                .header("Idempotent-Replayed", Boolean.toString(replayed))
                .body(JobView.of(job, artifacts.lineageOfJob(job.id())));
    }

    private static void checkKey(String idempotencyKey) {
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > 255)) {
            throw ApiException.invalid(List.of("Idempotency-Key: must be 1-255 characters"));
        }
    }

    /** sha256 of the body's JSON text (property order as sent: a retry sends the same bytes). */
    static String fingerprint(JsonNode request) {
        try {
            byte[] text = request.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(text));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
