package dev.amalgam.platform.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.platform.artifact.ArtifactMetadataReader;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactStore;
import dev.amalgam.platform.config.AmalgamProperties;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.job.NewJob;
import dev.amalgam.platform.testing.Registry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.JsonNode;

/** The worker runtime: a worker that shuts down mid-job hands the job back, and the next one resumes it. */
class WorkerRuntimeTest {

    @TempDir
    Path data;

    /** Counts to 10, one step every 50 ms, checkpointing the count; resumes from the checkpoint. */
    static final class Counter implements JobHandler {
        final CountDownLatch started = new CountDownLatch(1);
        volatile Integer resumedAt;

        @Override
        public String type() {
            return "count";
        }

        @Override
        public JsonNode handle(JobContext ctx) throws Exception {
            JsonNode saved = ctx.checkpoint();
            int from = saved == null ? 0 : saved.get("done").asInt();
            if (saved != null) {
                resumedAt = from;
            }
            for (int i = from; i < 10; i++) {
                started.countDown();
                Thread.sleep(50);
                ctx.saveCheckpoint(ctx.json().valueToTree(Map.of("done", i + 1)));
            }
            return ctx.json().valueToTree(Map.of("counted", 10 - from));
        }
    }

    WorkerRuntime runtime(Registry registry, JobHandler handler) {
        AmalgamProperties.Worker settings = new AmalgamProperties.Worker(List.of(), 1, Duration.ofSeconds(30),
                Duration.ofMillis(100), Duration.ofMillis(100), Duration.ofSeconds(30));
        AmalgamProperties props = new AmalgamProperties(data, AmalgamProperties.Role.both, null, settings,
                new AmalgamProperties.Auth(null, false), new AmalgamProperties.Uploads(DataSize.ofGigabytes(1), 1000));
        ArtifactRepository artifacts = new ArtifactRepository(registry.jdbc, registry.json);
        ArtifactStore store = new ArtifactStore(props, artifacts, new ArtifactMetadataReader(registry.json),
                new TransactionTemplate(new DataSourceTransactionManager(registry.dataSource)));
        return new WorkerRuntime(List.of(handler), registry.jobs, artifacts, store, registry.json, settings);
    }

    @Test
    void aStoppingWorkerRequeuesItsJobAndTheNextWorkerResumesFromTheCheckpoint() throws Exception {
        Registry registry = new Registry();
        UUID tenant = registry.newTenant("workers");
        UUID id = registry.jobService.submit(new NewJob(tenant, "count", 1, registry.json.valueToTree(Map.of()), 0, 3, null, List.of()))
                .job().id();

        Counter first = new Counter();
        WorkerRuntime a = runtime(registry, first);
        a.start();
        assertThat(first.started.await(10, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(180);
        a.stop();
        Job handedBack = registry.jobs.find(id).orElseThrow();
        assertThat(handedBack.status()).as("not FAILED: the worker stopped, the job did not fail").isEqualTo(JobStatus.QUEUED);
        int done = handedBack.checkpoint().get("done").asInt();
        assertThat(done).isBetween(1, 9);

        Counter second = new Counter();
        WorkerRuntime b = runtime(registry, second);
        b.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        Job end = registry.jobs.find(id).orElseThrow();
        while (!end.status().isFinal() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            end = registry.jobs.find(id).orElseThrow();
        }
        b.stop();
        assertThat(end.status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(end.attempts()).isEqualTo(2);
        assertThat(second.resumedAt).isEqualTo(done);
        assertThat(end.result().get("counted").asInt()).isEqualTo(10 - done);
    }

    @Test
    void aFailingHandlerFailsTheJobWithItsMessage() throws Exception {
        Registry registry = new Registry();
        UUID tenant = registry.newTenant("failing");
        UUID id = registry.jobService.submit(new NewJob(tenant, "boom", 1, registry.json.valueToTree(Map.of()), 0, 3, null, List.of()))
                .job().id();
        WorkerRuntime w = runtime(registry, new JobHandler() {
            @Override
            public String type() {
                return "boom";
            }

            @Override
            public JsonNode handle(JobContext ctx) {
                throw new IllegalArgumentException("the tensor 'x' is missing");
            }
        });
        w.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        Job end = registry.jobs.find(id).orElseThrow();
        while (!end.status().isFinal() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            end = registry.jobs.find(id).orElseThrow();
        }
        w.stop();
        assertThat(end.status()).isEqualTo(JobStatus.FAILED);
        assertThat(end.error()).isEqualTo("the tensor 'x' is missing");
        assertThat(end.attempts()).as("a handler's failure is final, not retried").isEqualTo(1);
    }
}
