package dev.amalgam.platform.testing;

import dev.amalgam.platform.auth.ApiKeyService;
import dev.amalgam.platform.job.JobRepository;
import dev.amalgam.platform.job.JobService;
import java.util.UUID;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.json.JsonMapper;

/** A migrated registry on a fresh test database, wired by hand (no Spring context) for fast tests. */
public final class Registry {

    public final DataSource dataSource;
    public final JdbcClient jdbc;
    public final JsonMapper json = JsonMapper.builder().build();
    public final JobRepository jobs;
    public final JobService jobService;
    public final ApiKeyService keys;

    public Registry() {
        this.dataSource = TestDatabase.newDatabase().dataSource();
        Flyway.configure().dataSource(dataSource).load().migrate();
        this.jdbc = JdbcClient.create(dataSource);
        this.jobs = new JobRepository(jdbc, json);
        this.jobService = new JobService(jobs, json);
        this.keys = new ApiKeyService(jdbc);
    }

    public UUID newTenant(String name) {
        return keys.createTenant(name).id();
    }
}
