package dev.amalgam.platform.job;

import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.error.ProblemType;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.transaction.annotation.Transactional;
import tools.jackson.databind.json.JsonMapper;

/** Job operations on behalf of a tenant: submit (idempotent), read, list, cancel. */
public class JobService {

    private final JobRepository jobs;
    private final JsonMapper json;

    public JobService(JobRepository jobs, JsonMapper json) {
        this.jobs = jobs;
        this.json = json;
    }

    /** The outcome of a submission: the job, and whether it already existed under the idempotency key. */
    public record Submission(Job job, boolean replayed) {
    }

    /**
     * Inserts a QUEUED job. With an idempotency key, a retry with the same type and spec returns the
     * first job instead of creating another; reusing the key for a different request is an error.
     */
    @Transactional
    public Submission submit(NewJob job) {
        var inserted = jobs.insert(job);
        if (inserted.isPresent()) {
            jobs.appendEvent(inserted.get().id(), JobEvent.Kind.STATUS, json.valueToTree(Map.of("status", "QUEUED")));
            return new Submission(inserted.get(), false);
        }
        Job existing = jobs.findByIdempotencyKey(job.tenantId(), job.idempotencyKey()).orElseThrow();
        String firstRequest = jobs.requestSha256(existing.id()).orElse(null);
        boolean sameRequest = firstRequest != null && job.requestSha256() != null
                ? firstRequest.equals(job.requestSha256())
                : existing.spec().equals(job.spec());
        if (!existing.type().equals(job.type()) || !sameRequest) {
            throw reused(job.idempotencyKey(), existing);
        }
        return new Submission(existing, true);
    }

    /**
     * The job a tenant submitted earlier with this Idempotency-Key, when the same request (type and body
     * fingerprint) is sent again: answered before the request is validated anew, since a finished job's
     * outputs now take the names it asks for. A key reused for another request is refused.
     */
    public java.util.Optional<Job> replay(UUID tenant, String type, String idempotencyKey, String requestSha256) {
        if (idempotencyKey == null) {
            return java.util.Optional.empty();
        }
        java.util.Optional<Job> existing = jobs.findByIdempotencyKey(tenant, idempotencyKey);
        if (existing.isEmpty()) {
            return existing;
        }
        String firstRequest = jobs.requestSha256(existing.get().id()).orElse(null);
        if (!existing.get().type().equals(type) || (firstRequest != null && !firstRequest.equals(requestSha256))) {
            throw reused(idempotencyKey, existing.get());
        }
        // a job submitted without a fingerprint is compared by its stored spec when the request is submitted
        return firstRequest == null ? java.util.Optional.empty() : existing;
    }

    private static ApiException reused(String key, Job existing) {
        return new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, ProblemType.VALIDATION,
                "The Idempotency-Key '" + key + "' was already used for a different request (job " + existing.id() + ")",
                List.of("Idempotency-Key: reused with a different request body"));
    }

    /** The tenant's job; 404 for a missing job and for another tenant's, so ids reveal nothing. */
    public Job get(UUID tenant, UUID id) {
        return jobs.find(id).filter(j -> j.tenantId().equals(tenant)).orElseThrow(() -> ApiException.notFound("Job", id));
    }

    public List<Job> list(UUID tenant, JobFilter filter, int page, int size) {
        return jobs.list(tenant, filter, page, size);
    }

    public long count(UUID tenant, JobFilter filter) {
        return jobs.count(tenant, filter);
    }

    /** Cancels at once when queued; asks the worker to stop when running; a final job is left as it is (409). */
    @Transactional
    public Job cancel(UUID tenant, UUID id) {
        Job job = get(tenant, id);
        if (job.status().isFinal()) {
            throw ApiException.conflict("Job " + id + " is already " + job.status() + " and cannot be cancelled");
        }
        Job after = jobs.requestCancel(id).orElseThrow();
        if (after.status() == JobStatus.CANCELLED) {
            jobs.appendEvent(id, JobEvent.Kind.STATUS, json.valueToTree(Map.of("status", "CANCELLED")));
        } else {
            jobs.appendEvent(id, JobEvent.Kind.LOG, json.valueToTree(Map.of("message", "Cancellation requested")));
        }
        return after;
    }

    public List<JobEvent> events(UUID tenant, UUID id, long afterSeq, int limit) {
        get(tenant, id);
        return jobs.events(id, afterSeq, limit);
    }
}
