package dev.amalgam.platform.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.platform.artifact.ArtifactMetadataReader;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactStore;
import dev.amalgam.platform.config.AmalgamProperties;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobEvent;
import dev.amalgam.platform.job.JobRepository;
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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
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
        return runtime(registry, handler, Duration.ofSeconds(10));
    }

    WorkerRuntime runtime(Registry registry, JobHandler handler, Duration stopTimeout) {
        return runtime(registry, registry.jobs, handler, stopTimeout);
    }

    WorkerRuntime runtime(Registry registry, JobRepository jobs, JobHandler handler, Duration stopTimeout) {
        AmalgamProperties.Worker settings = new AmalgamProperties.Worker(List.of(), 1, Duration.ofSeconds(30),
                Duration.ofMillis(100), Duration.ofMillis(100), Duration.ofSeconds(30), stopTimeout, 1);
        AmalgamProperties props = new AmalgamProperties(data, AmalgamProperties.Role.both, null, settings,
                new AmalgamProperties.Auth(null, false), new AmalgamProperties.Uploads(DataSize.ofGigabytes(1), 1000));
        ArtifactRepository artifacts = new ArtifactRepository(registry.jdbc, registry.json);
        ArtifactStore store = new ArtifactStore(props, artifacts, new ArtifactMetadataReader(registry.json),
                new TransactionTemplate(new DataSourceTransactionManager(registry.dataSource)));
        return new WorkerRuntime(List.of(handler), jobs, artifacts, store, registry.json, settings);
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
        assertThat(handedBack.attempts()).as("a clean stop spends no attempt").isZero();
        assertThat(handedBack.leaseOwner()).isNull();
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
        assertThat(end.attempts()).as("the handed-back run did not count").isEqualTo(1);
        assertThat(second.resumedAt).isEqualTo(done);
        assertThat(end.result().get("counted").asInt()).isEqualTo(10 - done);
    }

    @Test
    void aStoppingWorkerHandsBackAJobThatStopsAtItsNextCancellationCheckWithoutBeingCancelled() throws Exception {
        Registry registry = new Registry();
        UUID tenant = registry.newTenant("cooperative");
        UUID id = registry.jobService.submit(new NewJob(tenant, "spin", 1, registry.json.valueToTree(Map.of()), 0, 3, null, List.of()))
                .job().id();
        CountDownLatch started = new CountDownLatch(1);
        WorkerRuntime w = runtime(registry, new JobHandler() {
            @Override
            public String type() {
                return "spin";
            }

            @Override
            public JsonNode handle(JobContext ctx) {
                started.countDown();
                // busy work that never sleeps (so an interrupt alone would not stop it), checking cancellation
                while (true) {
                    ctx.throwIfCancelled();
                    Thread.onSpinWait();
                }
            }
        });
        w.start();
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        long before = System.nanoTime();
        w.stop();
        assertThat(Duration.ofNanos(System.nanoTime() - before)).as("stopped at the check, not at the timeout")
                .isLessThan(Duration.ofSeconds(5));
        Job job = registry.jobs.find(id).orElseThrow();
        assertThat(job.status()).as("handed back, not CANCELLED").isEqualTo(JobStatus.QUEUED);
        assertThat(job.attempts()).isZero();
        assertThat(registry.jobs.events(id, 0, 100)).anySatisfy(e ->
                assertThat(e.payload().path("message").asString("")).contains("queued again"));
    }

    @Test
    void aJobThatIgnoresTheStopIsHandedBackAfterTheStopTimeout() throws Exception {
        Registry registry = new Registry();
        UUID tenant = registry.newTenant("stubborn");
        UUID id = registry.jobService.submit(new NewJob(tenant, "stubborn", 1, registry.json.valueToTree(Map.of()), 0, 3, null, List.of()))
                .job().id();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        WorkerRuntime w = runtime(registry, new JobHandler() {
            @Override
            public String type() {
                return "stubborn";
            }

            @Override
            public JsonNode handle(JobContext ctx) {
                started.countDown();
                while (release.getCount() > 0) {
                    try {
                        release.await();
                    } catch (InterruptedException ignored) {
                        // a handler deep in native code does not see interrupts either
                    }
                }
                return null;
            }
        }, Duration.ofMillis(300));
        w.start();
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        w.stop();
        Job job = registry.jobs.find(id).orElseThrow();
        release.countDown();
        assertThat(job.status()).isEqualTo(JobStatus.QUEUED);
        assertThat(job.leaseOwner()).as("claimable at once by the next worker").isNull();
        assertThat(job.attempts()).isZero();
    }

    @Test
    void aJobWhoseEventsAndOutcomeHitABriefDatabaseOutageStillSucceedsOnItsFirstAttempt() throws Exception {
        Registry registry = new Registry();
        UUID tenant = registry.newTenant("outage");
        UUID id = registry.jobService.submit(new NewJob(tenant, "steady", 1, registry.json.valueToTree(Map.of()), 0, 3, null, List.of()))
                .job().id();
        AtomicInteger eventFailures = new AtomicInteger(3);
        AtomicInteger finishFailures = new AtomicInteger(2);
        // the registry as a PostgreSQL restart shows it: connections refused for a moment
        JobRepository flaky = new JobRepository(registry.jdbc, registry.json) {
            @Override
            public void appendEvent(UUID jobId, JobEvent.Kind kind, JsonNode payload) {
                if (kind == JobEvent.Kind.PROGRESS && eventFailures.getAndDecrement() > 0) {
                    throw new CannotGetJdbcConnectionException("Connection to localhost refused");
                }
                super.appendEvent(jobId, kind, payload);
            }

            @Override
            public boolean finish(UUID jobId, String owner, JobStatus status, JsonNode result, String error) {
                if (finishFailures.getAndDecrement() > 0) {
                    throw new CannotGetJdbcConnectionException("Connection to localhost refused");
                }
                return super.finish(jobId, owner, status, result, error);
            }
        };
        WorkerRuntime w = runtime(registry, flaky, new JobHandler() {
            @Override
            public String type() {
                return "steady";
            }

            @Override
            public JsonNode handle(JobContext ctx) {
                ctx.progress(0.5, "half way");
                return ctx.json().valueToTree(Map.of("ok", true));
            }
        }, Duration.ofSeconds(10));
        w.start();
        Job end = awaitFinal(registry, id);
        w.stop();
        assertThat(end.status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(end.attempts()).isEqualTo(1);
        assertThat(eventFailures.get()).as("the outage happened").isNegative();
        assertThat(registry.jobs.events(id, 0, 100)).anySatisfy(e ->
                assertThat(e.payload().path("message").asString("")).isEqualTo("half way"));
    }

    @Test
    void progressReachesTheJobRowAtOnceAndASucceededJobSaysDone() {
        Registry registry = new Registry();
        UUID tenant = registry.newTenant("progress");
        UUID id = registry.jobService.submit(new NewJob(tenant, "p", 1, registry.json.valueToTree(Map.of()), 0, 3, null, List.of()))
                .job().id();
        Job claimed = registry.jobs.claim(List.of("p"), "w", Duration.ofMinutes(5)).orElseThrow();
        ArtifactRepository artifacts = new ArtifactRepository(registry.jdbc, registry.json);
        JobContext ctx = new JobContext(claimed, "w", registry.jobs, artifacts, null, registry.json, Duration.ofSeconds(5));
        ctx.progress(0.4, "step 2 of 5");
        Job now = registry.jobs.find(id).orElseThrow();
        assertThat(now.progress()).as("no heartbeat ran").isEqualTo(0.4);
        assertThat(now.progressMessage()).isEqualTo("step 2 of 5");
        assertThat(registry.jobs.finish(id, "w", JobStatus.SUCCEEDED, null, null)).isTrue();
        Job done = registry.jobs.find(id).orElseThrow();
        assertThat(done.progress()).isEqualTo(1.0);
        assertThat(done.progressMessage()).as("not the last step's message").isEqualTo("Done");
    }

    private static Job awaitFinal(Registry registry, UUID id) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        Job end = registry.jobs.find(id).orElseThrow();
        while (!end.status().isFinal() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            end = registry.jobs.find(id).orElseThrow();
        }
        return end;
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
