package dev.amalgam.platform.pipeline;

import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.web.SpecChecks;
import java.util.List;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * SQL of pipelines. A pipeline is a row of {@code jobs} with type {@value #TYPE} (so it is listed, read and
 * cancelled like any job); no worker claims it. Its steps are ordinary jobs found by their idempotency key
 * {@code pipeline:<pipeline id>:<step name>}, which the registry keeps unique per tenant: a step can never be
 * submitted twice, whatever crashed between a decision and its write.
 */
public class PipelineRepository {

    /** The job type of pipelines. */
    public static final String TYPE = "pipeline";

    private final JdbcClient jdbc;
    private final JsonMapper json;

    public PipelineRepository(JdbcClient jdbc, JsonMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    /** The idempotency key of a step's job. */
    public static String stepKey(UUID pipeline, String step) {
        // the prefix clients may not use (SpecChecks.checkIdempotencyKey), so no client job takes a step's key
        return SpecChecks.RESERVED_KEY_PREFIX + pipeline + ":" + step;
    }

    /** Pipelines not yet final, oldest first. */
    public List<UUID> active() {
        return jdbc.sql("select id from jobs where type = :t and status in ('QUEUED', 'RUNNING') order by created_at, id")
                .param("t", TYPE).query(UUID.class).list();
    }

    /** Locks the pipeline's row until the transaction ends: its schedulers and a cancellation take turns. */
    public boolean lock(UUID id) {
        return jdbc.sql("select id from jobs where id = :id and type = :t for update").param("id", id).param("t", TYPE)
                .query(UUID.class).optional().isPresent();
    }

    /** Moves a live pipeline to {@code status} with its progress, result and error; false when it is already final. */
    public boolean update(UUID id, JobStatus status, double progress, String message, JsonNode result, String error) {
        return jdbc.sql("update jobs set status = :status, progress = :progress, progress_message = :message,"
                        + " result = cast(:result as jsonb), error = :error, updated_at = now(),"
                        + " started_at = case when :status = 'QUEUED' then started_at else coalesce(started_at, now()) end,"
                        + " finished_at = case when :status in ('SUCCEEDED', 'FAILED', 'CANCELLED') then now() else null end"
                        + " where id = :id and status in ('QUEUED', 'RUNNING')")
                .param("id", id).param("status", status.name()).param("progress", Math.max(0, Math.min(1, progress)))
                .param("message", message).param("result", result == null ? null : json.writeValueAsString(result))
                .param("error", error).update() == 1;
    }

    /** An artifact a step published. */
    public record Output(UUID artifactId, ArtifactKind kind, String name) {
    }

    /** The READY artifacts a job published, in the order published. */
    public List<Output> outputs(UUID jobId) {
        return jdbc.sql("select id, kind, name from artifacts where producing_job_id = :j and status = 'READY' order by created_at, id")
                .param("j", jobId)
                .query((rs, i) -> new Output(rs.getObject(1, UUID.class), ArtifactKind.valueOf(rs.getString(2)), rs.getString(3)))
                .list();
    }

    /** Records lineage of the pipeline itself: what its steps read from outside it (INPUT), what they made (OUTPUT). */
    public void addLineage(UUID pipeline, UUID artifact, String role) {
        jdbc.sql("insert into job_artifacts (job_id, artifact_id, role) values (:j, :a, :r) on conflict do nothing")
                .param("j", pipeline).param("a", artifact).param("r", role).update();
    }
}
