package dev.amalgam.platform.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.testing.Registry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The queue on a real PostgreSQL: claims, leases, attempts, cancellation, idempotency. */
class JobQueueTest {

    static Registry registry;
    static final Duration LONG_LEASE = Duration.ofMinutes(5);

    @BeforeAll
    static void setUp() {
        registry = new Registry();
    }

    private static NewJob job(UUID tenant, String type, int maxAttempts) {
        return new NewJob(tenant, type, 1, registry.json.valueToTree(Map.of("n", 1)), 0, maxAttempts, null, List.of());
    }

    @Test
    void manyThreadsClaimManyJobsEachExactlyOnce() throws Exception {
        UUID tenant = registry.newTenant("claims");
        int jobCount = 300;
        Set<UUID> submitted = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < jobCount; i++) {
            submitted.add(registry.jobs.insert(job(tenant, "concurrent", 3)).orElseThrow().id());
        }
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        Map<UUID, String> claimedBy = new ConcurrentHashMap<>();
        AtomicInteger doubleClaims = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String owner = "worker-" + t;
            futures.add(pool.submit(() -> {
                start.await();
                while (true) {
                    var claimed = registry.jobs.claim(List.of("concurrent"), owner, LONG_LEASE);
                    if (claimed.isEmpty()) {
                        return null;
                    }
                    if (claimedBy.putIfAbsent(claimed.get().id(), owner) != null) {
                        doubleClaims.incrementAndGet();
                    }
                    registry.jobs.finish(claimed.get().id(), owner, JobStatus.SUCCEEDED, null, null);
                }
            }));
        }
        start.countDown();
        for (Future<?> f : futures) {
            f.get(2, TimeUnit.MINUTES);
        }
        pool.shutdown();
        assertThat(doubleClaims).hasValue(0);
        assertThat(claimedBy.keySet()).isEqualTo(submitted);
        assertThat(Set.copyOf(claimedBy.values())).as("work spread over the workers").hasSizeGreaterThan(1);
        assertThat(registry.jobs.count(tenant, new JobFilter("concurrent", JobStatus.SUCCEEDED))).isEqualTo(jobCount);
    }

    @Test
    void claimTakesHigherPriorityFirstThenOldest() {
        UUID tenant = registry.newTenant("priority");
        var low = registry.jobs.insert(job(tenant, "prio", 1)).orElseThrow();
        var high = registry.jobs.insert(new NewJob(tenant, "prio", 1, registry.json.valueToTree(Map.of()), 5, 1, null, List.of()))
                .orElseThrow();
        assertThat(registry.jobs.claim(List.of("prio"), "w", LONG_LEASE).orElseThrow().id()).isEqualTo(high.id());
        assertThat(registry.jobs.claim(List.of("prio"), "w", LONG_LEASE).orElseThrow().id()).isEqualTo(low.id());
        assertThat(registry.jobs.claim(List.of("prio"), "w", LONG_LEASE)).isEmpty();
    }

    @Test
    void aTenantsHighPrioritiesDoNotStarveAnotherTenant() {
        UUID busy = registry.newTenant("fair-busy");
        UUID other = registry.newTenant("fair-other");
        List<UUID> busyJobs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            busyJobs.add(registry.jobs.insert(new NewJob(busy, "fair", 1, registry.json.valueToTree(Map.of("i", i)), 100, 1,
                    null, List.of())).orElseThrow().id());
        }
        UUID late = registry.jobs.insert(new NewJob(other, "fair", 1, registry.json.valueToTree(Map.of()), -100, 1, null,
                List.of())).orElseThrow().id();
        List<UUID> order = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            order.add(registry.jobs.claim(List.of("fair"), "w" + i, LONG_LEASE).orElseThrow().id());
        }
        // both tenants run nothing: the higher priority; then the tenant that runs nothing, whatever its priority
        assertThat(order).containsExactly(busyJobs.get(0), late, busyJobs.get(1), busyJobs.get(2));
    }

    @Test
    void expiredLeaseIsClaimedAgainAndTheOldOwnerLosesIt() throws Exception {
        UUID tenant = registry.newTenant("lease");
        UUID id = registry.jobs.insert(job(tenant, "lease", 3)).orElseThrow().id();
        Job first = registry.jobs.claim(List.of("lease"), "dying-worker", Duration.ofMillis(200)).orElseThrow();
        assertThat(first.attempts()).isEqualTo(1);
        assertThat(registry.jobs.claim(List.of("lease"), "other", LONG_LEASE)).as("lease still valid").isEmpty();

        Thread.sleep(400);
        Job second = registry.jobs.claim(List.of("lease"), "rescuer", LONG_LEASE).orElseThrow();
        assertThat(second.id()).isEqualTo(id);
        assertThat(second.attempts()).isEqualTo(2);
        assertThat(second.leaseOwner()).isEqualTo("rescuer");

        assertThat(registry.jobs.heartbeat(id, "dying-worker", LONG_LEASE, 0.5, "late")).as("old owner lost the job").isEmpty();
        assertThat(registry.jobs.finish(id, "dying-worker", JobStatus.SUCCEEDED, null, null)).isFalse();
        assertThat(registry.jobs.heartbeat(id, "rescuer", LONG_LEASE, 0.25, "step 1")).contains(false);
        assertThat(registry.jobs.find(id).orElseThrow().progress()).isEqualTo(0.25);
        assertThat(registry.jobs.finish(id, "rescuer", JobStatus.SUCCEEDED, registry.json.valueToTree(Map.of("ok", true)), null)).isTrue();
        Job done = registry.jobs.find(id).orElseThrow();
        assertThat(done.status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(done.progress()).isEqualTo(1.0);
        assertThat(done.result().get("ok").asBoolean()).isTrue();
    }

    @Test
    void jobPastMaxAttemptsIsFailedWithTheReason() throws Exception {
        UUID tenant = registry.newTenant("attempts");
        UUID id = registry.jobs.insert(job(tenant, "attempts", 2)).orElseThrow().id();
        registry.jobs.claim(List.of("attempts"), "w1", Duration.ofMillis(100)).orElseThrow();
        Thread.sleep(250);
        registry.jobs.claim(List.of("attempts"), "w2", Duration.ofMillis(100)).orElseThrow();
        Thread.sleep(250);
        assertThat(registry.jobs.claim(List.of("attempts"), "w3", LONG_LEASE)).as("no attempts left").isEmpty();
        assertThat(registry.jobs.reapExpired(Duration.ofMinutes(5))).as("within the grace a stalled worker may still renew")
                .extracting(Job::id).doesNotContain(id);
        assertThat(registry.jobs.heartbeat(id, "w2", Duration.ofMillis(100), null, null))
                .as("the live owner renews after the stall").isPresent();
        Thread.sleep(250);
        List<Job> reaped = registry.jobs.reapExpired(Duration.ZERO);
        assertThat(reaped).extracting(Job::id).contains(id);
        Job failed = registry.jobs.find(id).orElseThrow();
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.attempts()).isEqualTo(2);
        assertThat(failed.error()).contains("lease expired").contains("attempt 2 of 2");
        assertThat(failed.finishedAt()).isNotNull();
    }

    @Test
    void cancelQueuedIsImmediateAndCancelRunningIsCooperative() {
        UUID tenant = registry.newTenant("cancel");
        UUID queued = registry.jobService.submit(job(tenant, "cancel-q", 1)).job().id();
        assertThat(registry.jobService.cancel(tenant, queued).status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(registry.jobs.claim(List.of("cancel-q"), "w", LONG_LEASE)).as("cancelled job is never claimed").isEmpty();

        UUID running = registry.jobService.submit(job(tenant, "cancel-r", 1)).job().id();
        registry.jobs.claim(List.of("cancel-r"), "w", LONG_LEASE).orElseThrow();
        Job asked = registry.jobService.cancel(tenant, running);
        assertThat(asked.status()).isEqualTo(JobStatus.RUNNING);
        assertThat(asked.cancelRequested()).isTrue();
        assertThat(registry.jobs.heartbeat(running, "w", LONG_LEASE, null, null)).contains(true);
        assertThat(registry.jobs.finish(running, "w", JobStatus.CANCELLED, null, null)).isTrue();

        assertThatThrownBy(() -> registry.jobService.cancel(tenant, running))
                .isInstanceOf(ApiException.class).hasMessageContaining("already CANCELLED");
    }

    @Test
    void idempotencyKeyReturnsTheFirstJobAndRejectsADifferentRequest() {
        UUID tenant = registry.newTenant("idem");
        var spec = registry.json.valueToTree(Map.of("model", "a"));
        var first = registry.jobService.submit(new NewJob(tenant, "idem", 1, spec, 0, 1, "key-1", List.of()));
        var again = registry.jobService.submit(new NewJob(tenant, "idem", 1, spec, 0, 1, "key-1", List.of()));
        assertThat(first.replayed()).isFalse();
        assertThat(again.replayed()).isTrue();
        assertThat(again.job().id()).isEqualTo(first.job().id());
        assertThat(registry.jobs.count(tenant, new JobFilter("idem", null))).isEqualTo(1);

        var different = registry.json.valueToTree(Map.of("model", "b"));
        assertThatThrownBy(() -> registry.jobService.submit(new NewJob(tenant, "idem", 1, different, 0, 1, "key-1", List.of())))
                .isInstanceOf(ApiException.class).hasMessageContaining("already used for a different request");

        UUID otherTenant = registry.newTenant("idem-other");
        var theirs = registry.jobService.submit(new NewJob(otherTenant, "idem", 1, spec, 0, 1, "key-1", List.of()));
        assertThat(theirs.replayed()).as("keys are per tenant").isFalse();
    }

    @Test
    void theNameFilterMatchesAPartOfTheSpecsNameOrOutputInAnyCase() {
        UUID tenant = registry.newTenant("names");
        UUID pruned = registry.jobService.submit(new NewJob(tenant, "prune", 1,
                registry.json.valueToTree(Map.of("model", "m", "name", "Llama-Pruned")), 0, 1, null, List.of())).job().id();
        UUID merged = registry.jobService.submit(new NewJob(tenant, "merge", 1,
                registry.json.valueToTree(Map.of("configYaml", "x", "output", "llama-merged")), 0, 1, null, List.of())).job().id();
        registry.jobService.submit(new NewJob(tenant, "evaluate", 1,
                registry.json.valueToTree(Map.of("model", "llama-pruned")), 0, 1, null, List.of()));
        // LIKE wildcards are plain characters here: "%" and "_" match only themselves
        UUID odd = registry.jobService.submit(new NewJob(tenant, "prune", 1,
                registry.json.valueToTree(Map.of("name", "odd_100%")), 0, 1, null, List.of())).job().id();

        assertThat(registry.jobService.list(tenant, new JobFilter(null, null, "LLAMA"), 0, 50)).extracting(Job::id)
                .as("name, else output; never another field such as the evaluation's model").containsExactlyInAnyOrder(pruned, merged);
        assertThat(registry.jobService.count(tenant, new JobFilter(null, null, "pruned"))).isEqualTo(1);
        assertThat(registry.jobService.list(tenant, new JobFilter("merge", null, "llama"), 0, 50)).extracting(Job::id).containsExactly(merged);
        assertThat(registry.jobService.list(tenant, new JobFilter(null, null, "_1"), 0, 50)).extracting(Job::id).containsExactly(odd);
        assertThat(registry.jobService.list(tenant, new JobFilter(null, null, "%"), 0, 50)).extracting(Job::id).containsExactly(odd);
        assertThat(registry.jobService.count(tenant, new JobFilter(null, null, "  "))).as("blank: no filter").isEqualTo(4);
        assertThat(registry.jobService.count(tenant, new JobFilter(null, null, "x\0"))).isZero();

        assertThat(dev.amalgam.platform.web.JobView.of(registry.jobService.get(tenant, pruned), List.of()).name()).isEqualTo("Llama-Pruned");
        assertThat(dev.amalgam.platform.web.JobView.of(registry.jobService.get(tenant, merged), List.of()).name()).isEqualTo("llama-merged");
    }

    @Test
    void jobsOfAnotherTenantAreNotFound() {
        UUID mine = registry.newTenant("mine");
        UUID theirs = registry.newTenant("theirs");
        UUID id = registry.jobService.submit(job(theirs, "iso", 1)).job().id();
        assertThatThrownBy(() -> registry.jobService.get(mine, id))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status().value()).isEqualTo(404));
        assertThat(registry.jobService.list(mine, new JobFilter(null, null), 0, 50)).isEmpty();
        assertThat(registry.jobService.get(theirs, id).id()).isEqualTo(id);
    }

    @Test
    void eventsAreOrderedPerJobAndResumable() {
        UUID tenant = registry.newTenant("events");
        UUID id = registry.jobService.submit(job(tenant, "events", 1)).job().id();
        for (int i = 0; i < 5; i++) {
            registry.jobs.appendEvent(id, JobEvent.Kind.METRIC, registry.json.valueToTree(Map.of("step", i)));
        }
        List<JobEvent> all = registry.jobService.events(tenant, id, 0, 100);
        assertThat(all).hasSize(6);
        assertThat(all.get(0).kind()).isEqualTo(JobEvent.Kind.STATUS);
        assertThat(all).extracting(JobEvent::seq).isSorted();
        long resumeAfter = all.get(3).seq();
        assertThat(registry.jobService.events(tenant, id, resumeAfter, 100)).extracting(e -> e.payload().get("step").asInt())
                .containsExactly(3, 4);
    }
}
