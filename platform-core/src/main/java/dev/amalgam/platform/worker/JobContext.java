package dev.amalgam.platform.worker;

import dev.amalgam.job.CancelledException;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactStore;
import dev.amalgam.platform.job.DatabaseRetry;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobEvent;
import dev.amalgam.platform.job.JobRepository;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.Published;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A job run by the platform's worker: progress and metrics on the job row and as events, cancellation requests and
 * the lease, the checkpoint on the job row, staging space in the artifact store, and publication as artifacts
 * with lineage to the job's inputs.
 */
public class JobContext implements JobRun {

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

    @Override
    public JsonNode checkpoint() {
        return DatabaseRetry.call("read checkpoint", retryBudget, () -> jobs.find(job.id()).map(Job::checkpoint).orElse(null));
    }

    @Override
    public void saveCheckpoint(JsonNode state) {
        if (!DatabaseRetry.call("save checkpoint", retryBudget, () -> jobs.saveCheckpoint(job.id(), owner, state))) {
            leaseLost = true;
            throw new CancelledException();
        }
    }

    /** Reports progress in 0..1 with a message: on the job row and as an event, at once. */
    @Override
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

    /** Records metrics of one step of a named stage (e.g. "sft", "wrpo"; null: the job has one stage). */
    @Override
    public void metrics(String stage, long step, Map<String, ? extends Number> values) {
        Map<String, Object> payload = new LinkedHashMap<>();
        if (stage != null) {
            payload.put("stage", stage);
        }
        payload.put("step", step);
        payload.putAll(values);
        event(JobEvent.Kind.METRIC, payload);
    }

    @Override
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
    @Override
    public boolean isCancelled() {
        return cancelled || leaseLost || stopping;
    }

    /**
     * A directory of this job that survives a worker's death (training checkpoints, search state too big
     * for the job row); a later attempt finds it as the earlier one left it. Removed when the job ends.
     */
    @Override
    public Path workDir() {
        try {
            return java.nio.file.Files.createDirectories(store.workDir(job.id()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public Path newStagingDir() {
        Path dir = store.newStagingDir();
        staged.add(dir);
        return dir;
    }

    /**
     * Publishes every output of the job at once, all or nothing: a failure (a name taken, a bad file) leaves
     * none of them published. An attempt that follows one which died after publishing (before it could
     * record the job's outcome) finds its outputs already there and returns them, so a job's outputs exist
     * exactly once.
     */
    @Override
    public List<Published> publishAll(List<JobOutput> outputs, List<JobInput> inputs) {
        throwIfCancelled();
        List<UUID> lineage = inputs.stream().map(JobInput::artifactId).filter(Objects::nonNull).distinct().toList();
        List<Artifact> earlier = outputs.stream()
                .map(o -> artifacts.findReadyByName(job.tenantId(), o.name()).filter(a -> job.id().equals(a.producingJobId())))
                .flatMap(java.util.Optional::stream).toList();
        List<Artifact> published;
        if (earlier.size() == outputs.size()) {
            outputs.forEach(o -> {
                ArtifactStore.deleteQuietly(o.stagedDir());
                staged.remove(o.stagedDir());
            });
            published = earlier;
        } else if (!earlier.isEmpty()) {
            throw new IllegalStateException("Some outputs of this job were published by an earlier attempt and some not: "
                    + earlier.stream().map(Artifact::name).toList());
        } else {
            published = store.publishAll(outputs.stream()
                    .map(o -> new ArtifactStore.Publication(job.tenantId(), o.kind(), o.name(), o.stagedDir(), job.id(), lineage))
                    .toList());
            outputs.forEach(o -> staged.remove(o.stagedDir()));
        }
        List<Published> out = new ArrayList<>();
        for (int i = 0; i < outputs.size(); i++) {
            Artifact a = published.get(i);
            out.add(new Published(a.kind(), outputs.get(i).role(), a.name(), a.id().toString(), a.dir()));
        }
        return out;
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
