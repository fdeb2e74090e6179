package dev.amalgam.platform.pipeline;

import dev.amalgam.job.SpecReader;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.job.DatabaseRetry;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobEvent;
import dev.amalgam.platform.job.JobRepository;
import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.job.NewJob;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobOptions;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.StoredInputs;
import dev.amalgam.platform.jobtype.TenantInputs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Runs pipelines as DAGs of ordinary jobs. Every service's worker runs one; each pass goes through the live
 * pipelines and, with the pipeline's row locked, reads its steps' jobs back from the registry, asks
 * {@link PipelineOrchestrator} what to do, and does it: submits the ready steps whose types this service serves
 * (each validated by its job type with the earlier steps' outputs resolved to their artifacts, stored and queued
 * like any submission of that type), cancels steps, and records the pipeline's status, progress, result and
 * lineage. All state is in the registry and a step's job is found by a unique key, so a pass after a crash or on
 * another service carries on exactly where the last one committed.
 */
public class PipelineScheduler implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(PipelineScheduler.class);

    private final PipelineRepository pipelines;
    private final JobRepository jobs;
    private final ArtifactService artifacts;
    private final TransactionTemplate tx;
    private final JsonMapper json;
    private final StepChecks types;
    private final Duration interval;
    private dev.amalgam.platform.credential.CredentialService credentials;
    private ScheduledExecutorService executor;
    private volatile boolean running;

    public PipelineScheduler(PipelineRepository pipelines, JobRepository jobs, ArtifactService artifacts, TransactionTemplate tx,
                             JsonMapper json, List<JobType<?, ?, ?>> types, Duration interval) {
        this.pipelines = pipelines;
        this.jobs = jobs;
        this.artifacts = artifacts;
        this.tx = tx;
        this.json = json;
        this.types = new StepChecks(types);
        this.interval = interval;
    }

    /** The tenants' registered credentials that step specs may name (without: a step naming one gets a problem). */
    public PipelineScheduler withCredentials(dev.amalgam.platform.credential.CredentialService credentials) {
        this.credentials = credentials;
        return this;
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "amalgam-pipelines");
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(this::tickQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        running = false;
        if (executor != null) {
            executor.shutdownNow();
            try {
                executor.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    private void tickQuietly() {
        try {
            tick();
        } catch (RuntimeException e) {
            if (DatabaseRetry.isTransient(e)) {
                log.warn("Pipelines: the database is unreachable ({}); trying again", e.getClass().getSimpleName());
            } else {
                log.error("Pipelines: a pass failed", e);
            }
        }
    }

    /** One pass over every live pipeline. */
    public void tick() {
        for (UUID id : pipelines.active()) {
            if (!running && executor != null) {
                return;
            }
            try {
                tx.executeWithoutResult(status -> pass(id));
            } catch (RuntimeException e) {
                if (DatabaseRetry.isTransient(e)) {
                    throw e;
                }
                // a bug or a broken stored pipeline: say so on the pipeline instead of retrying it forever
                log.error("Pipeline {}: the pass failed", id, e);
                tx.executeWithoutResult(status -> {
                    if (pipelines.lock(id)) {
                        end(jobs.find(id).orElseThrow(), JobStatus.FAILED, "the pipeline could not be scheduled: " + e.getMessage());
                    }
                });
            }
        }
    }

    private void pass(UUID id) {
        if (!pipelines.lock(id)) {
            return;
        }
        Job pipeline = jobs.find(id).orElseThrow();
        if (pipeline.status().isFinal()) {
            return;
        }
        PipelineSpec spec = PipelineSpecReader.stored(pipeline.spec());
        Map<String, Job> stepJobs = new LinkedHashMap<>();
        Map<String, PipelineOrchestrator.StepState> states = new LinkedHashMap<>();
        for (PipelineSpec.Step s : spec.steps()) {
            jobs.findByIdempotencyKey(pipeline.tenantId(), PipelineRepository.stepKey(id, s.name())).ifPresent(j -> {
                stepJobs.put(s.name(), j);
                states.put(s.name(), new PipelineOrchestrator.StepState(j.id(), j.status(), j.progress(), j.error()));
            });
        }
        PipelineOrchestrator.Decision decision = PipelineOrchestrator.decide(spec, pipeline.cancelRequested(), states);
        JobStatus status = decision.status();
        String error = decision.error();
        String message = decision.progressMessage();
        for (String name : decision.cancel()) {
            cancelStep(stepJobs.get(name));
        }
        for (String name : decision.submit()) {
            PipelineSpec.Step step = spec.step(name);
            JobType<?, ?, ?> type = types.type(step.type());
            if (type == null) {
                continue; // another service submits it
            }
            List<String> problems = new ArrayList<>();
            Job submitted = submitStep(pipeline, spec, step, type, stepJobs, problems);
            if (submitted == null) {
                status = JobStatus.FAILED;
                error = "step '" + name + "' could not be submitted: " + String.join("; ", problems);
                message = "failed at step " + name;
                stepJobs.values().stream().filter(j -> !j.status().isFinal()).forEach(this::cancelStep);
                break;
            }
            stepJobs.put(name, submitted);
            jobs.appendEvent(id, JobEvent.Kind.LOG, json.valueToTree(Map.of("message",
                    "step " + name + " submitted as " + type.name() + " job " + submitted.id())));
        }
        if (status == JobStatus.RUNNING && stepJobs.isEmpty()) {
            status = JobStatus.QUEUED; // waiting for the service of its first steps
        }
        stepJobs.replaceAll((name, j) -> jobs.find(j.id()).orElse(j)); // as the cancellations left them
        JsonNode result = result(spec, stepJobs);
        if (status == JobStatus.SUCCEEDED) {
            result.path("steps").forEach(s -> s.path("outputs").forEach(o ->
                    pipelines.addLineage(id, UUID.fromString(o.path("artifact").stringValue()), "OUTPUT")));
        }
        boolean changed = status != pipeline.status() || !Objects.equals(error, pipeline.error())
                || !Objects.equals(message, pipeline.progressMessage()) || !result.equals(pipeline.result())
                || Math.abs(decision.progress() - pipeline.progress()) > 1e-9;
        if (changed) {
            pipelines.update(id, status, status == JobStatus.SUCCEEDED ? 1.0 : decision.progress(), message, result, error);
        }
        if (status != pipeline.status()) {
            ObjectNode event = json.createObjectNode().put("status", status.name());
            if (error != null) {
                event.put("error", error);
            }
            jobs.appendEvent(id, JobEvent.Kind.STATUS, event);
        }
    }

    /** Ends a pipeline that could not be scheduled; cancels its live steps. */
    private void end(Job pipeline, JobStatus status, String error) {
        if (pipeline.status().isFinal()) {
            return;
        }
        try {
            PipelineSpec spec = PipelineSpecReader.stored(pipeline.spec());
            for (PipelineSpec.Step s : spec.steps()) {
                jobs.findByIdempotencyKey(pipeline.tenantId(), PipelineRepository.stepKey(pipeline.id(), s.name()))
                        .filter(j -> !j.status().isFinal()).ifPresent(this::cancelStep);
            }
        } catch (RuntimeException unreadable) {
            // nothing to cancel that can be found
        }
        pipelines.update(pipeline.id(), status, pipeline.progress(), "failed", pipeline.result(), error);
        jobs.appendEvent(pipeline.id(), JobEvent.Kind.STATUS, json.createObjectNode().put("status", status.name()).put("error", error));
    }

    private void cancelStep(Job step) {
        Job after = jobs.requestCancel(step.id()).orElseThrow();
        if (after.status() == JobStatus.CANCELLED) {
            jobs.appendEvent(step.id(), JobEvent.Kind.STATUS, json.valueToTree(Map.of("status", "CANCELLED")));
        } else {
            jobs.appendEvent(step.id(), JobEvent.Kind.LOG, json.valueToTree(Map.of("message", "Cancellation requested by its pipeline")));
        }
    }

    /**
     * Resolves the step's references to the artifacts of the steps it depends on, then validates and queues it as
     * {@link dev.amalgam.platform.web.JobSubmissions} queues a submission of its type. Returns null with the
     * problems when it does not validate.
     */
    private <S, V extends JobType.Validated, R> Job submitStep(Job pipeline, PipelineSpec spec, PipelineSpec.Step step,
                                                             JobType<S, V, R> type, Map<String, Job> stepJobs,
                                                             List<String> problems) {
        Map<StepReferences.Reference, String> values = new LinkedHashMap<>();
        Set<UUID> produced = new HashSet<>();
        for (Job j : stepJobs.values()) {
            pipelines.outputs(j.id()).forEach(o -> produced.add(o.artifactId()));
        }
        for (StepReferences.Reference ref : StepReferences.find(step.spec(), "spec", new ArrayList<>())) {
            List<PipelineRepository.Output> outputs = pipelines.outputs(stepJobs.get(ref.step()).id()).stream()
                    .filter(o -> o.kind() == ref.kind()).toList();
            if (outputs.size() != 1) {
                problems.add(ref.text() + ": step '" + ref.step() + "' published " + outputs.size() + " "
                        + ref.kind().name().toLowerCase(Locale.ROOT) + " artifact(s); exactly one is needed");
            } else {
                values.put(ref, outputs.get(0).artifactId().toString());
            }
        }
        if (!problems.isEmpty()) {
            return null;
        }
        JsonNode resolved = StepReferences.resolve(step.spec(), values);
        SpecReader reader = SpecReader.of(resolved);
        JobOptions options = JobOptions.read(reader);
        S read = type.read(reader);
        reader.finish();
        problems.addAll(reader.problems());
        TenantInputs inputs = new TenantInputs(artifacts, pipeline.tenantId(), credentials);
        V job;
        try {
            job = type.validate(read, inputs, problems);
        } catch (RuntimeException e) {
            problems.add(e.toString());
            return null;
        }
        if (!problems.isEmpty() || job == null) {
            if (problems.isEmpty()) {
                problems.add("not a valid " + type.name() + " spec");
            }
            List<String> named = inputs.withArtifactNames(problems);
            problems.clear();
            problems.addAll(named);
            return null;
        }
        ObjectNode stored = (ObjectNode) resolved.deepCopy();
        ObjectNode map = stored.putObject(StoredInputs.ARTIFACTS_FIELD);
        inputs.resolved().forEach((reference, artifact) -> map.put(reference, artifact.toString()));
        List<UUID> lineage = job.inputs().stream().map(JobInput::artifactId).filter(Objects::nonNull).distinct().toList();
        String key = PipelineRepository.stepKey(pipeline.id(), step.name());
        Job submitted = jobs.insert(new NewJob(pipeline.tenantId(), type.name(), type.specVersion(), stored, options.priority(),
                        options.maxAttempts(), key, lineage))
                .orElseGet(() -> jobs.findByIdempotencyKey(pipeline.tenantId(), key).orElseThrow());
        jobs.appendEvent(submitted.id(), JobEvent.Kind.STATUS, json.valueToTree(Map.of("status", "QUEUED")));
        // the pipeline's own lineage: what its steps read from outside it
        lineage.stream().filter(a -> !produced.contains(a)).forEach(a -> pipelines.addLineage(pipeline.id(), a, "INPUT"));
        return submitted;
    }

    /** The pipeline's result: each step's job, status and published artifacts. */
    private JsonNode result(PipelineSpec spec, Map<String, Job> stepJobs) {
        ObjectNode root = json.createObjectNode();
        ObjectNode steps = root.putObject("steps");
        for (PipelineSpec.Step s : spec.steps()) {
            ObjectNode o = steps.putObject(s.name());
            o.put("type", s.type());
            Job j = stepJobs.get(s.name());
            if (j == null) {
                o.putNull("job");
                o.put("status", "PENDING");
                continue;
            }
            o.put("job", j.id().toString());
            // a step submitted in this pass is QUEUED; the others as the registry holds them now
            o.put("status", j.status().name());
            var outputs = o.putArray("outputs");
            for (PipelineRepository.Output out : pipelines.outputs(j.id())) {
                outputs.addObject().put("kind", out.kind().name().toLowerCase(Locale.ROOT)).put("name", out.name())
                        .put("artifact", out.artifactId().toString());
            }
        }
        return root;
    }
}
