package dev.amalgam.platform.job;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * SQL for jobs and job events. Every state change is one guarded UPDATE (checking status and lease
 * owner), so concurrent workers and API calls never overwrite each other.
 */
public class JobRepository {

    private static final String COLUMNS = """
            id, tenant_id, type, spec_version, spec, status, priority, attempts, max_attempts, lease_owner,
            lease_expires_at, progress, progress_message, cancel_requested, checkpoint, result, error,
            idempotency_key, created_at, updated_at, started_at, finished_at""";

    /** Channel of LISTEN/NOTIFY: the payload is the job type that became claimable. */
    public static final String CHANNEL = "amalgam_jobs";

    private final JdbcClient jdbc;
    private final JsonMapper json;

    public JobRepository(JdbcClient jdbc, JsonMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    /** Inserts a QUEUED job; returns empty when the tenant already used the idempotency key. */
    public Optional<Job> insert(NewJob job) {
        UUID id = UUID.randomUUID();
        int rows = jdbc.sql("""
                        insert into jobs (id, tenant_id, type, spec_version, spec, status, priority, max_attempts, idempotency_key,
                                          request_sha256)
                        values (:id, :tenant, :type, :version, cast(:spec as jsonb), 'QUEUED', :priority, :maxAttempts, :key,
                                :requestSha256)
                        on conflict (tenant_id, idempotency_key) do nothing""")
                .param("id", id).param("tenant", job.tenantId()).param("type", job.type())
                .param("version", job.specVersion()).param("spec", json.writeValueAsString(job.spec()))
                .param("priority", job.priority()).param("maxAttempts", job.maxAttempts())
                .param("key", job.idempotencyKey()).param("requestSha256", job.requestSha256())
                .update();
        if (rows == 0) {
            return Optional.empty();
        }
        for (UUID artifact : job.inputArtifacts()) {
            jdbc.sql("insert into job_artifacts (job_id, artifact_id, role) values (:j, :a, 'INPUT') on conflict do nothing")
                    .param("j", id).param("a", artifact).update();
        }
        notifyClaimable(job.type());
        return find(id);
    }

    public void notifyClaimable(String type) {
        jdbc.sql("select pg_notify(:channel, :type)").param("channel", CHANNEL).param("type", type).query(String.class).optional();
    }

    public Optional<Job> find(UUID id) {
        return jdbc.sql("select " + COLUMNS + " from jobs where id = :id").param("id", id).query(this::map).optional();
    }

    public Optional<Job> findByIdempotencyKey(UUID tenant, String key) {
        return jdbc.sql("select " + COLUMNS + " from jobs where tenant_id = :t and idempotency_key = :k")
                .param("t", tenant).param("k", key).query(this::map).optional();
    }

    /** The sha256 of the request body a job was submitted with, when it came over HTTP. */
    public Optional<String> requestSha256(UUID id) {
        return jdbc.sql("select request_sha256 from jobs where id = :id").param("id", id).query(String.class).optional();
    }

    /** A job's name is its spec's "name" (pruning, fusion), else its "output" (merge); strpos needs no escaping. */
    private static final String NAME_FILTER = " and (cast(:name as text) is null"
            + " or strpos(lower(coalesce(spec->>'name', spec->>'output', '')), lower(:name)) > 0)";

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }

    public List<Job> list(UUID tenant, JobFilter filter, int page, int size) {
        if (holdsNul(filter.type()) || holdsNul(filter.name())) {
            return List.of();
        }
        return jdbc.sql("select " + COLUMNS + " from jobs where tenant_id = :t"
                        + " and (cast(:type as text) is null or type = :type) and (cast(:status as text) is null or status = :status)"
                        + NAME_FILTER
                        + " order by created_at desc, id limit :limit offset :offset")
                .param("t", tenant).param("type", filter.type())
                .param("status", filter.status() == null ? null : filter.status().name()).param("name", blankToNull(filter.name()))
                .param("limit", size).param("offset", (long) page * size)
                .query(this::map).list();
    }

    public long count(UUID tenant, JobFilter filter) {
        if (holdsNul(filter.type()) || holdsNul(filter.name())) {
            return 0;
        }
        return jdbc.sql("select count(*) from jobs where tenant_id = :t"
                        + " and (cast(:type as text) is null or type = :type) and (cast(:status as text) is null or status = :status)"
                        + NAME_FILTER)
                .param("t", tenant).param("type", filter.type())
                .param("status", filter.status() == null ? null : filter.status().name()).param("name", blankToNull(filter.name()))
                .query(Long.class).single();
    }

    /**
     * Claims the most urgent claimable job of the given types in one statement: a QUEUED job, or a
     * RUNNING one whose lease expired (its worker died) with attempts left. SKIP LOCKED lets many
     * workers claim concurrently without blocking or double-claiming.
     *
     * <p>Tenants share the workers fairly: the job comes from the tenant with the fewest live RUNNING jobs
     * of these types; a job's priority orders it among its tenant's jobs (and between tenants that run as
     * many), then the oldest goes first. So no tenant's priorities or backlog can starve another tenant.
     */
    public Optional<Job> claim(Collection<String> types, String owner, Duration lease) {
        return jdbc.sql("update jobs set status = 'RUNNING', lease_owner = :owner,"
                        + " lease_expires_at = now() + make_interval(secs => :lease), attempts = attempts + 1,"
                        + " started_at = coalesce(started_at, now()), updated_at = now()"
                        + " where id = (select j.id from jobs j"
                        + "   left join (select tenant_id, count(*) as running from jobs where type = any(:types)"
                        + "     and status = 'RUNNING' and lease_expires_at >= now() group by tenant_id) r on r.tenant_id = j.tenant_id"
                        + "   where j.type = any(:types) and not j.cancel_requested and (j.status = 'QUEUED'"
                        + "     or (j.status = 'RUNNING' and j.lease_expires_at < now() and j.attempts < j.max_attempts))"
                        + "   order by coalesce(r.running, 0), j.priority desc, j.created_at limit 1 for update of j skip locked)"
                        + " returning " + COLUMNS)
                .param("owner", owner).param("lease", seconds(lease)).param("types", types.toArray(String[]::new))
                .query(this::map).optional();
    }

    /**
     * Extends the lease and records progress. Returns whether cancellation was requested, or empty when
     * this worker no longer holds the job (lease lost): the worker must then stop working on it.
     */
    public Optional<Boolean> heartbeat(UUID id, String owner, Duration lease, Double progress, String message) {
        return jdbc.sql("update jobs set lease_expires_at = now() + make_interval(secs => :lease), updated_at = now(),"
                        + " progress = coalesce(:progress, progress), progress_message = coalesce(:message, progress_message)"
                        + " where id = :id and lease_owner = :owner and status = 'RUNNING' returning cancel_requested")
                .param("id", id).param("owner", owner).param("lease", seconds(lease))
                .param("progress", progress).param("message", message)
                .query(Boolean.class).optional();
    }

    /** Records progress on the job row at once (the heartbeat also does, later). */
    public boolean progress(UUID id, String owner, double progress, String message) {
        return jdbc.sql("update jobs set progress = :progress, progress_message = :message, updated_at = now()"
                        + " where id = :id and lease_owner = :owner and status = 'RUNNING'")
                .param("id", id).param("owner", owner).param("progress", progress).param("message", message).update() == 1;
    }

    public boolean saveCheckpoint(UUID id, String owner, JsonNode checkpoint) {
        return jdbc.sql("update jobs set checkpoint = cast(:cp as jsonb), updated_at = now()"
                        + " where id = :id and lease_owner = :owner and status = 'RUNNING'")
                .param("id", id).param("owner", owner).param("cp", json.writeValueAsString(checkpoint)).update() == 1;
    }

    /** Moves a job this worker holds to a final state (or back to QUEUED for a retry). */
    public boolean finish(UUID id, String owner, JobStatus status, JsonNode result, String error) {
        return jdbc.sql("update jobs set status = :status, result = cast(:result as jsonb), error = :error,"
                        + " progress = case when :status = 'SUCCEEDED' then 1 else progress end,"
                        // a finished job says so; a failed or cancelled one keeps where it stopped
                        + " progress_message = case when :status = 'SUCCEEDED' then 'Done' else progress_message end,"
                        + " lease_owner = null, lease_expires_at = null, updated_at = now(),"
                        + " finished_at = case when :status = 'QUEUED' then null else now() end"
                        + " where id = :id and lease_owner = :owner and status = 'RUNNING'")
                .param("id", id).param("owner", owner).param("status", status.name())
                .param("result", result == null ? null : json.writeValueAsString(result)).param("error", error)
                .update() == 1;
    }

    /**
     * Hands a job this worker holds back to the queue without spending an attempt: the worker is stopping
     * cleanly, so the attempt did not fail. Another worker resumes it from its checkpoint at once.
     */
    public boolean release(UUID id, String owner) {
        return jdbc.sql("update jobs set status = 'QUEUED', attempts = greatest(attempts - 1, 0),"
                        + " lease_owner = null, lease_expires_at = null, updated_at = now()"
                        + " where id = :id and lease_owner = :owner and status = 'RUNNING'")
                .param("id", id).param("owner", owner).update() == 1;
    }

    /** Cancels a QUEUED job at once; marks a RUNNING one for cooperative cancellation. Returns the new state. */
    public Optional<Job> requestCancel(UUID id) {
        jdbc.sql("update jobs set status = 'CANCELLED', cancel_requested = true, finished_at = now(), updated_at = now()"
                + " where id = :id and status = 'QUEUED'").param("id", id).update();
        jdbc.sql("update jobs set cancel_requested = true, updated_at = now() where id = :id and status = 'RUNNING'")
                .param("id", id).update();
        return find(id);
    }

    /**
     * Final states for jobs whose worker vanished: leases expired for longer than {@code grace} with no
     * attempts left become FAILED, and those of jobs asked to cancel become CANCELLED. The grace keeps a
     * database stall (in which no heartbeat could land) from failing jobs whose workers are alive: they
     * extend their leases as soon as the database answers again. Returns the jobs changed.
     */
    public List<Job> reapExpired(Duration grace) {
        List<Job> cancelled = jdbc.sql("update jobs set status = 'CANCELLED', lease_owner = null, lease_expires_at = null,"
                        + " finished_at = now(), updated_at = now()"
                        + " where status = 'RUNNING' and lease_expires_at < now() - make_interval(secs => :grace)"
                        + " and cancel_requested returning " + COLUMNS)
                .param("grace", seconds(grace)).query(this::map).list();
        List<Job> failed = jdbc.sql("update jobs set status = 'FAILED', lease_owner = null, lease_expires_at = null,"
                        + " finished_at = now(), updated_at = now(),"
                        + " error = 'The worker stopped heartbeating (lease expired) on attempt ' || attempts || ' of ' || max_attempts"
                        + " where status = 'RUNNING' and lease_expires_at < now() - make_interval(secs => :grace)"
                        + " and attempts >= max_attempts returning " + COLUMNS)
                .param("grace", seconds(grace)).query(this::map).list();
        return java.util.stream.Stream.concat(cancelled.stream(), failed.stream()).toList();
    }

    public void appendEvent(UUID jobId, JobEvent.Kind kind, JsonNode payload) {
        jdbc.sql("insert into job_events (job_id, kind, payload) values (:j, :k, cast(:p as jsonb))")
                .param("j", jobId).param("k", kind.name()).param("p", json.writeValueAsString(payload)).update();
    }

    public List<JobEvent> events(UUID jobId, long afterSeq, int limit) {
        return jdbc.sql("select job_id, seq, kind, payload, created_at from job_events where job_id = :j and seq > :after"
                        + " order by seq limit :limit")
                .param("j", jobId).param("after", afterSeq).param("limit", limit)
                .query((rs, i) -> new JobEvent(rs.getObject(1, UUID.class), rs.getLong(2), JobEvent.Kind.valueOf(rs.getString(3)),
                        json.readTree(rs.getString(4)), rs.getObject(5, OffsetDateTime.class)))
                .list();
    }

    private static double seconds(Duration d) {
        return d.toMillis() / 1000.0;
    }

    private Job map(ResultSet rs, int row) throws SQLException {
        return new Job(
                rs.getObject("id", UUID.class),
                rs.getObject("tenant_id", UUID.class),
                rs.getString("type"),
                rs.getInt("spec_version"),
                readJson(rs.getString("spec")),
                JobStatus.valueOf(rs.getString("status")),
                rs.getInt("priority"),
                rs.getInt("attempts"),
                rs.getInt("max_attempts"),
                rs.getString("lease_owner"),
                rs.getObject("lease_expires_at", OffsetDateTime.class),
                rs.getDouble("progress"),
                rs.getString("progress_message"),
                rs.getBoolean("cancel_requested"),
                readJson(rs.getString("checkpoint")),
                readJson(rs.getString("result")),
                rs.getString("error"),
                rs.getString("idempotency_key"),
                rs.getObject("created_at", OffsetDateTime.class),
                rs.getObject("updated_at", OffsetDateTime.class),
                rs.getObject("started_at", OffsetDateTime.class),
                rs.getObject("finished_at", OffsetDateTime.class));
    }

    private JsonNode readJson(String s) {
        return s == null ? null : json.readTree(s);
    }

    /** PostgreSQL text cannot hold NUL (it refuses such a parameter): no row matches a filter with one. */
    private static boolean holdsNul(String s) {
        return s != null && s.indexOf('\0') >= 0;
    }
}
