package dev.amalgam.platform.artifact;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** SQL for artifacts, their files and lineage. */
public class ArtifactRepository {

    private static final String COLUMNS =
            "id, tenant_id, kind, name, status, storage_path, size_bytes, metadata, producing_job_id, created_at";

    private final JdbcClient jdbc;
    private final JsonMapper json;

    public ArtifactRepository(JdbcClient jdbc, JsonMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    public void insert(Artifact a, List<ArtifactFile> files, List<UUID> inputs) {
        jdbc.sql("insert into artifacts (" + COLUMNS + ") values (:id, :tenant, :kind, :name, 'READY', :path, :size,"
                        + " cast(:metadata as jsonb), :job, now())")
                .param("id", a.id()).param("tenant", a.tenantId()).param("kind", a.kind().name()).param("name", a.name())
                .param("path", a.storagePath()).param("size", a.sizeBytes()).param("metadata", json.writeValueAsString(a.metadata()))
                .param("job", a.producingJobId())
                .update();
        for (ArtifactFile f : files) {
            jdbc.sql("insert into artifact_files (artifact_id, path, size_bytes, sha256) values (:a, :p, :s, :h)")
                    .param("a", a.id()).param("p", f.path()).param("s", f.sizeBytes()).param("h", f.sha256()).update();
        }
        if (a.producingJobId() != null) {
            jdbc.sql("insert into job_artifacts (job_id, artifact_id, role) values (:j, :a, 'OUTPUT')")
                    .param("j", a.producingJobId()).param("a", a.id()).update();
            for (UUID input : inputs) {
                jdbc.sql("insert into job_artifacts (job_id, artifact_id, role) values (:j, :a, 'INPUT') on conflict do nothing")
                        .param("j", a.producingJobId()).param("a", input).update();
            }
        }
    }

    public Optional<Artifact> find(UUID id) {
        return jdbc.sql("select " + COLUMNS + " from artifacts where id = :id").param("id", id).query(this::map).optional();
    }

    public Optional<Artifact> findReadyByName(UUID tenant, String name) {
        if (holdsNul(name)) {
            return Optional.empty();
        }
        return jdbc.sql("select " + COLUMNS + " from artifacts where tenant_id = :t and name = :n and status = 'READY'")
                .param("t", tenant).param("n", name).query(this::map).optional();
    }

    public List<Artifact> list(UUID tenant, ArtifactKind kind, String nameContains, int page, int size) {
        if (holdsNul(nameContains)) {
            return List.of();
        }
        return jdbc.sql("select " + COLUMNS + " from artifacts where tenant_id = :t and status = 'READY'"
                        + " and (cast(:kind as text) is null or kind = :kind)"
                        + " and (cast(:q as text) is null or strpos(name, :q) > 0)"
                        + " order by created_at desc, id limit :limit offset :offset")
                .param("t", tenant).param("kind", kind == null ? null : kind.name()).param("q", nameContains)
                .param("limit", size).param("offset", (long) page * size)
                .query(this::map).list();
    }

    public long count(UUID tenant, ArtifactKind kind, String nameContains) {
        if (holdsNul(nameContains)) {
            return 0;
        }
        return jdbc.sql("select count(*) from artifacts where tenant_id = :t and status = 'READY'"
                        + " and (cast(:kind as text) is null or kind = :kind)"
                        + " and (cast(:q as text) is null or strpos(name, :q) > 0)")
                .param("t", tenant).param("kind", kind == null ? null : kind.name()).param("q", nameContains)
                .query(Long.class).single();
    }

    public List<ArtifactFile> files(UUID artifactId) {
        return jdbc.sql("select path, size_bytes, sha256 from artifact_files where artifact_id = :a order by path")
                .param("a", artifactId)
                .query((rs, i) -> new ArtifactFile(rs.getString(1), rs.getLong(2), rs.getString(3))).list();
    }

    /** Jobs not yet final that read this artifact: while there are any, it cannot be deleted. */
    public List<UUID> liveConsumers(UUID artifactId) {
        return jdbc.sql("select j.id from job_artifacts ja join jobs j on j.id = ja.job_id"
                        + " where ja.artifact_id = :a and ja.role = 'INPUT' and j.status in ('QUEUED', 'RUNNING')")
                .param("a", artifactId).query(UUID.class).list();
    }

    /** Lineage rows of a job: (artifact id, role). */
    public List<Lineage> lineageOfJob(UUID jobId) {
        return jdbc.sql("select artifact_id, role from job_artifacts where job_id = :j order by role, artifact_id")
                .param("j", jobId).query((rs, i) -> new Lineage(rs.getObject(1, UUID.class), rs.getString(2))).list();
    }

    /** Jobs that consumed this artifact. */
    public List<UUID> consumers(UUID artifactId) {
        return jdbc.sql("select job_id from job_artifacts where artifact_id = :a and role = 'INPUT' order by job_id")
                .param("a", artifactId).query(UUID.class).list();
    }

    public boolean markDeleted(UUID id) {
        return jdbc.sql("update artifacts set status = 'DELETED', deleted_at = now() where id = :id and status = 'READY'")
                .param("id", id).update() == 1;
    }

    /** One lineage edge. */
    public record Lineage(UUID artifactId, String role) {
    }

    private Artifact map(ResultSet rs, int row) throws SQLException {
        return new Artifact(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), ArtifactKind.valueOf(rs.getString(3)),
                rs.getString(4), rs.getString(5), rs.getString(6), rs.getLong(7), readJson(rs.getString(8)),
                rs.getObject(9, UUID.class), rs.getObject(10, OffsetDateTime.class));
    }

    private JsonNode readJson(String s) {
        return s == null ? null : json.readTree(s);
    }

    /** PostgreSQL text cannot hold NUL (it refuses such a parameter): no artifact has a name with one. */
    private static boolean holdsNul(String s) {
        return s != null && s.indexOf('\0') >= 0;
    }
}
