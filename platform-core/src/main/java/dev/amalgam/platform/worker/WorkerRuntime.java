package dev.amalgam.platform.worker;

import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactStore;
import dev.amalgam.platform.config.AmalgamProperties;
import dev.amalgam.platform.job.DatabaseRetry;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobEvent;
import dev.amalgam.platform.job.JobRepository;
import dev.amalgam.platform.job.JobStatus;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Claims and runs jobs for the handlers of this process. Each worker thread claims one job at a time
 * (a short transaction of its own), runs it outside any transaction while a scheduler extends its lease
 * and forwards progress, and records the outcome. Idle threads wait for a LISTEN/NOTIFY wake-up, or the
 * poll interval, whichever comes first.
 */
public class WorkerRuntime implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);

    private final Map<String, JobHandler> handlers = new LinkedHashMap<>();
    private final JobRepository jobs;
    private final ArtifactRepository artifacts;
    private final ArtifactStore store;
    private final JsonMapper json;
    private final AmalgamProperties.Worker settings;
    private final String ownerPrefix;
    private final Semaphore wakeUps = new Semaphore(0);
    private final List<Thread> threads = new ArrayList<>();
    private final Map<UUID, JobContext> active = new java.util.concurrent.ConcurrentHashMap<>();
    private ScheduledExecutorService scheduler;
    private volatile boolean running;

    public WorkerRuntime(List<JobHandler> handlers, JobRepository jobs, ArtifactRepository artifacts, ArtifactStore store,
                         JsonMapper json, AmalgamProperties.Worker settings) {
        for (JobHandler h : handlers) {
            if (settings.types().isEmpty() || settings.types().contains(h.type())) {
                this.handlers.put(h.type(), h);
            }
        }
        this.jobs = jobs;
        this.artifacts = artifacts;
        this.store = store;
        this.json = json;
        this.settings = settings;
        this.ownerPrefix = hostName() + "-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Job types this runtime works on. */
    public List<String> types() {
        return List.copyOf(handlers.keySet());
    }

    /** Wakes idle worker threads (called on a NOTIFY). */
    public void wakeUp() {
        wakeUps.release(Math.max(1, settings.concurrency()));
    }

    @Override
    public synchronized void start() {
        if (running || handlers.isEmpty()) {
            return;
        }
        running = true;
        ComputeThreads.register(settings.concurrency(), settings.intraOpThreads());
        scheduler = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "amalgam-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long reapMs = settings.reapInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::reap, reapMs, reapMs, TimeUnit.MILLISECONDS);
        for (int i = 0; i < settings.concurrency(); i++) {
            Thread t = new Thread(this::loop, "amalgam-worker-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        log.info("Worker started for job types {} ({} thread(s))", handlers.keySet(), settings.concurrency());
    }

    /**
     * Stops claiming, asks running jobs to stop at their next safe point and hands them back to the queue
     * without spending an attempt, so a restarted or another worker resumes them from their checkpoint at
     * once. A job that does not stop within {@code stopTimeout} is handed back all the same; its thread can
     * no longer publish (publication checks {@link JobContext#isCancelled()}).
     */
    @Override
    public synchronized void stop() {
        if (running) {
            ComputeThreads.unregister(settings.concurrency());
        }
        running = false;
        active.values().forEach(JobContext::markStopping);
        threads.forEach(Thread::interrupt);
        long deadline = System.nanoTime() + settings.stopTimeout().toNanos();
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (JobContext context : active.values()) {
            handBack(context);
        }
        threads.clear();
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Claims and runs jobs until stopped. */
    private void loop() {
        String owner = ownerPrefix + "/" + Thread.currentThread().getName();
        while (running) {
            try {
                Optional<Job> claimed = jobs.claim(handlers.keySet(), owner, settings.lease());
                if (claimed.isPresent()) {
                    run(claimed.get(), owner);
                } else {
                    wakeUps.tryAcquire(settings.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
                    wakeUps.drainPermits();
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // the database may be briefly unreachable: back off and try again
                log.warn("Worker loop error: {}", e.toString());
                sleepQuietly(settings.pollInterval());
            }
        }
    }

    /** Runs one claimed job to its final state. */
    void run(Job job, String owner) {
        JobHandler handler = handlers.get(job.type());
        JobContext context = new JobContext(job, owner, jobs, artifacts, store, json, settings.lease());
        active.put(job.id(), context);
        try {
            runClaimed(job, handler, context);
        } finally {
            active.remove(job.id());
        }
    }

    private void runClaimed(Job job, JobHandler handler, JobContext context) {
        String owner = context.owner();
        if (!running) {
            handBack(context);
            return;
        }
        event(job, JobEvent.Kind.STATUS, Map.of("status", "RUNNING", "attempt", job.attempts(), "worker", owner));
        long beat = settings.heartbeat().toMillis();
        ScheduledFuture<?> heartbeat = scheduler.scheduleWithFixedDelay(() -> heartbeat(context), beat, beat, TimeUnit.MILLISECONDS);
        JobStatus outcome;
        JsonNode result = null;
        String error = null;
        try {
            result = handler.handle(context);
            // a handler that returned has done the work (and may have published it): a late cancel changes nothing
            outcome = context.leaseLost() ? null : JobStatus.SUCCEEDED;
        } catch (dev.amalgam.job.CancelledException e) {
            outcome = context.leaseLost() ? null : JobStatus.CANCELLED;
        } catch (Throwable e) {
            if (running) {
                log.warn("Job {} ({}) failed", job.id(), job.type(), e);
            } else {
                log.info("Job {} ({}) stopped with the worker: {}", job.id(), job.type(), e.toString());
            }
            outcome = context.leaseLost() ? null : JobStatus.FAILED;
            error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        } finally {
            heartbeat.cancel(false);
            context.discardStaged();
        }
        if (outcome == null) {
            log.warn("Job {} lost its lease; another worker may take it over", job.id());
            return;
        }
        if (!running && outcome != JobStatus.SUCCEEDED && !context.cancelRequested()) {
            // this worker is shutting down and stopped the job: hand it back instead of failing or cancelling it
            handBack(context);
            return;
        }
        JobStatus finalStatus = outcome;
        JsonNode finalResult = result;
        String finalError = error;
        if (DatabaseRetry.call("record the outcome of job " + job.id(), settings.lease(),
                () -> jobs.finish(job.id(), owner, finalStatus, finalResult, finalError))) {
            // the job is over for good: its resumable working state is no longer needed
            dev.amalgam.platform.artifact.ArtifactStore.deleteQuietly(store.workDir(job.id()));
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("status", outcome.name());
            if (error != null) {
                payload.put("error", error);
            }
            event(job, JobEvent.Kind.STATUS, payload);
        }
    }

    /** Queues a job this worker holds again, without spending its attempt. */
    private void handBack(JobContext context) {
        Job job = context.job();
        try {
            if (DatabaseRetry.call("hand job " + job.id() + " back", settings.lease(), () -> jobs.release(job.id(), context.owner()))) {
                event(job, JobEvent.Kind.LOG, Map.of("message", "Worker " + context.owner()
                        + " stopped; the job is queued again and resumes from its last checkpoint"));
                jobs.notifyClaimable(job.type());
            }
        } catch (RuntimeException e) {
            // the lease then expires and another worker takes the job over as a new attempt
            log.warn("Could not hand job {} back: {}", job.id(), e.toString());
        }
    }

    private void heartbeat(JobContext context) {
        try {
            Optional<Boolean> cancel = jobs.heartbeat(context.job().id(), context.owner(), settings.lease(),
                    context.progressValue(), context.progressMessage());
            if (cancel.isEmpty()) {
                context.markLeaseLost();
            } else if (cancel.get()) {
                context.markCancelled();
            }
        } catch (RuntimeException e) {
            log.warn("Heartbeat of job {} failed: {}", context.job().id(), e.toString());
        }
    }

    private void reap() {
        try {
            // after a database stall, renew this process's own leases before judging anyone's
            active.values().forEach(this::heartbeat);
            for (Job j : jobs.reapExpired(settings.lease())) {
                dev.amalgam.platform.artifact.ArtifactStore.deleteQuietly(store.workDir(j.id()));
                Map<String, Object> payload = new LinkedHashMap<>();
                payload.put("status", j.status().name());
                if (j.error() != null) {
                    payload.put("error", j.error());
                }
                event(j, JobEvent.Kind.STATUS, payload);
            }
        } catch (RuntimeException e) {
            log.warn("Reaping expired jobs failed: {}", e.toString());
        }
    }

    private void event(Job job, JobEvent.Kind kind, Map<String, ?> payload) {
        JsonNode node = json.valueToTree(payload);
        DatabaseRetry.run("record a job event", settings.lease(), () -> jobs.appendEvent(job.id(), kind, node));
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "worker";
        }
    }
}
