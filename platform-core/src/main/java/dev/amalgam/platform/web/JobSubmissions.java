package dev.amalgam.platform.web;

import dev.amalgam.job.SpecReader;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.job.NewJob;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobOptions;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.StoredInputs;
import dev.amalgam.platform.jobtype.TenantInputs;
import java.net.URI;
import java.util.List;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The one submission path of every job type: the body checks, the job options, idempotency, the type's own
 * reading and validation (all problems answered at once as 422), the stored spec with the artifact each reference
 * resolved to, lineage, and the 202 Accepted answer with the job and its Location.
 */
public class JobSubmissions {

    private final JobService jobs;
    private final ArtifactRepository artifactRepository;
    private final ArtifactService artifacts;
    private final dev.amalgam.platform.credential.CredentialService credentials;

    public JobSubmissions(JobService jobs, ArtifactRepository artifactRepository, ArtifactService artifacts) {
        this(jobs, artifactRepository, artifacts, null);
    }

    /** @param credentials the tenants' registered credentials that specs may name; null where there are none */
    public JobSubmissions(JobService jobs, ArtifactRepository artifactRepository, ArtifactService artifacts,
                          dev.amalgam.platform.credential.CredentialService credentials) {
        this.credentials = credentials;
        this.jobs = jobs;
        this.artifactRepository = artifactRepository;
        this.artifacts = artifacts;
    }

    /**
     * Validates {@code body} as a spec of {@code type} for the caller and queues the job.
     *
     * @param idempotencyKey the Idempotency-Key header, or null: a retry with the same key and body gets the first
     *                       job (202), even after it finished and its outputs took the names it asks for
     */
    public <S, V extends JobType.Validated, R> ResponseEntity<JobView> submit(Caller caller, JobType<S, V, R> type, JsonNode body,
                                                                          String idempotencyKey) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(List.of("body: a JSON object is required"));
        }
        SpecChecks.requireStorableText(body);
        SpecChecks.checkIdempotencyKey(idempotencyKey);
        String fingerprint = fingerprint(body);
        // a retry is answered before validating anew: a finished job's outputs now take the names it asks for
        var replayed = jobs.replay(caller.tenantId(), type.name(), idempotencyKey, fingerprint);
        if (replayed.isPresent()) {
            return accepted(replayed.get(), true);
        }
        SpecReader reader = SpecReader.of(body);
        JobOptions options = JobOptions.read(reader);
        S spec = type.read(reader);
        reader.finish();
        List<String> problems = reader.problems();
        TenantInputs inputs = new TenantInputs(artifacts, caller.tenantId(), credentials);
        V job = type.validate(spec, inputs, problems);
        if (!problems.isEmpty() || job == null) {
            throw ApiException.invalid(problems.isEmpty() ? List.of("body: not a valid " + type.name() + " spec")
                    : inputs.withArtifactNames(problems));
        }
        ObjectNode stored = (ObjectNode) body.deepCopy();
        ObjectNode resolved = stored.putObject(StoredInputs.ARTIFACTS_FIELD);
        inputs.resolved().forEach((reference, id) -> resolved.put(reference, id.toString()));
        List<UUID> lineage = job.inputs().stream().map(JobInput::artifactId).distinct().toList();
        var submission = jobs.submit(new NewJob(caller.tenantId(), type.name(), type.specVersion(), stored, options.priority(),
                options.maxAttempts(), idempotencyKey, lineage, fingerprint));
        return accepted(submission.job(), submission.replayed());
    }

    private ResponseEntity<JobView> accepted(Job job, boolean replayed) {
        return ResponseEntity.status(HttpStatus.ACCEPTED)
                .location(URI.create("/api/v1/jobs/" + job.id()))
                .header("Idempotent-Replayed", Boolean.toString(replayed))
                .body(JobView.of(job, artifactRepository.lineageOfJob(job.id())));
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
