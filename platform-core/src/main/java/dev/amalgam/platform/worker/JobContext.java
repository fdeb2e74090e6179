package dev.amalgam.platform.worker;

import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactStore;
import dev.amalgam.platform.job.DatabaseRetry;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobEvent;
import dev.amalgam.platform.job.JobRepository;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What a running job sees of the platform: its spec and checkpoint, progress and metric reporting,
 * cancellation, staging space and artifact publication (with lineage to the job's inputs).
 */
public class JobContext {

    private final Job job;
    private final String owner;
    private final JobRepository jobs;
    private final ArtifactRepository artifacts;
    private final ArtifactStore store;
    private final JsonMapper json;
    private final java.time.Duration retryBudget;
    private final List<Path> staged = new ArrayList<>();
    private volatile double progress;
    private volatile String progressMessage;
    private volatile boolean cancelled;
    private volatile boolean leaseLost;
    private volatile boolean stopping;

    /** @param retryBudget how long registry writes are retried through a database outage (the lease: longer is moot) */
    JobContext(Job job, String owner, JobRepository jobs, ArtifactRepository artifacts, ArtifactStore store, JsonMapper json,
               java.time.Duration retryBudget) {
        this.retryBudget = retryBudget;
        this.job = job;
        this.owner = owner;
        this.jobs = jobs;
        this.artifacts = artifacts;
        this.store = store;
        this.json = json;
        this.progress = job.progress();
    }

    public Job job() {
        return job;
    }

    public JsonNode spec() {
        return job.spec();
    }

    /** The checkpoint the job saved in an earlier attempt, or null on a first run. */
    public JsonNode checkpoint() {
        return DatabaseRetry.call("read checkpoint", retryBudget, () -> jobs.find(job.id()).map(Job::checkpoint).orElse(null));
    }

    /** Saves resumable state; a later attempt (after this worker died) reads it with {@link #checkpoint()}. */
    public void saveCheckpoint(JsonNode state) {
        if (!DatabaseRetry.call("save checkpoint", retryBudget, () -> jobs.saveCheckpoint(job.id(), owner, state))) {
            leaseLost = true;
            throw new JobCancelledException();
        }
    }

    /** Reports progress in 0..1 with a message: on the job row and as an event, at once. */
    public void progress(double fraction, String message) {
        this.progress = Math.max(0, Math.min(1, fraction));
        this.progressMessage = message;
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("progress", this.progress);
        payload.put("message", message);
        double fractionNow = this.progress;
        // the job row shows it at once, not a heartbeat later than the event
        DatabaseRetry.run("record progress", retryBudget, () -> jobs.progress(job.id(), owner, fractionNow, message));
        event(JobEvent.Kind.PROGRESS, payload);
    }

    /** Records metrics of one step (loss, perplexity, learning rate ...) as an event. */
    public void metrics(long step, Map<String, ? extends Number> values) {
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("step", step);
        payload.putAll(values);
        event(JobEvent.Kind.METRIC, payload);
    }

    /** Records metrics of one step of a named stage (e.g. "sft", "wrpo"). */
    public void metrics(String stage, long step, Map<String, ? extends Number> values) {
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("stage", stage);
        payload.put("step", step);
        payload.putAll(values);
        event(JobEvent.Kind.METRIC, payload);
    }

    public void log(String message) {
        event(JobEvent.Kind.LOG, Map.of("message", message));
    }

    private void event(JobEvent.Kind kind, Map<String, ?> payload) {
        JsonNode node = json.valueToTree(payload);
        DatabaseRetry.run("record a job event", retryBudget, () -> jobs.appendEvent(job.id(), kind, node));
    }

    /**
     * True once cancellation was requested, this worker lost the job's lease, or the worker is stopping (the
     * job is then handed back, not cancelled): in each case the handler should stop at its next safe point.
     */
    public boolean isCancelled() {
        return cancelled || leaseLost || stopping;
    }

    public void throwIfCancelled() {
        if (isCancelled()) {
            throw new JobCancelledException();
        }
    }

    /**
     * A directory of this job that survives a worker's death (training checkpoints, search state too big
     * for the job row); a later attempt finds it as the earlier one left it. Removed when the job ends.
     */
    public Path workDir() {
        try {
            return java.nio.file.Files.createDirectories(store.workDir(job.id()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A private directory for outputs; removed automatically if the job does not publish it. */
    public Path newStagingDir() {
        Path dir = store.newStagingDir();
        staged.add(dir);
        return dir;
    }

    /** One output of a job: what it is, its name, and the staged directory holding it. */
    public record Output(ArtifactKind kind, String name, Path stagedDir) {
    }

    /** Publishes a staged directory as an artifact produced by this job, consuming {@code inputs}. */
    public Artifact publish(ArtifactKind kind, String name, Path stagedDir, List<UUID> inputs) {
        return publishAll(List.of(new Output(kind, name, stagedDir)), inputs).get(0);
    }

    /**
     * Publishes every output of the job at once, all or nothing: a failure (a name taken, a bad file) leaves
     * none of them published. An attempt that follows one which died after publishing (before it could
     * record the job's outcome) finds its outputs already there and returns them, so a job's outputs exist
     * exactly once.
     */
    public List<Artifact> publishAll(List<Output> outputs, List<UUID> inputs) {
        throwIfCancelled();
        List<Artifact> earlier = outputs.stream()
                .map(o -> artifacts.findReadyByName(job.tenantId(), o.name()).filter(a -> job.id().equals(a.producingJobId())))
                .flatMap(java.util.Optional::stream).toList();
        if (earlier.size() == outputs.size()) {
            outputs.forEach(o -> {
                ArtifactStore.deleteQuietly(o.stagedDir());
                staged.remove(o.stagedDir());
            });
            return earlier;
        }
        if (!earlier.isEmpty()) {
            throw new IllegalStateException("Some outputs of this job were published by an earlier attempt and some not: "
                    + earlier.stream().map(Artifact::name).toList());
        }
        List<Artifact> published = store.publishAll(outputs.stream()
                .map(o -> new ArtifactStore.Publication(job.tenantId(), o.kind(), o.name(), o.stagedDir(), job.id(), inputs))
                .toList());
        outputs.forEach(o -> staged.remove(o.stagedDir()));
        return published;
    }

    /** The tenant's READY artifact with this id, for handlers resolving a spec. */
    public Artifact artifact(UUID id) {
        return artifacts.find(id).filter(a -> a.tenantId().equals(job.tenantId()) && a.isReady())
                .orElseThrow(() -> new IllegalStateException("Artifact " + id + " is gone"));
    }

    public JsonMapper json() {
        return json;
    }

    double progressValue() {
        return progress;
    }

    String progressMessage() {
        return progressMessage;
    }

    void markCancelled() {
        cancelled = true;
    }

    /** Whether a user asked to cancel the job (as opposed to the worker stopping or losing the lease). */
    boolean cancelRequested() {
        return cancelled;
    }

    void markStopping() {
        stopping = true;
    }

    void markLeaseLost() {
        leaseLost = true;
    }

    boolean leaseLost() {
        return leaseLost;
    }

    String owner() {
        return owner;
    }

    /** Removes staging directories the handler created but did not publish. */
    void discardStaged() {
        staged.forEach(ArtifactStore::deleteQuietly);
        staged.clear();
    }
}
