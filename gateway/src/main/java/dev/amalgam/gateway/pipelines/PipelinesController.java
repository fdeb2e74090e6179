package dev.amalgam.gateway.pipelines;

import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.pipeline.PipelineRepository;
import dev.amalgam.platform.pipeline.PipelineSubmissions;
import dev.amalgam.platform.web.JobView;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * /api/v1/pipelines: submit a pipeline (steps that are ordinary jobs, later ones reading earlier ones' outputs), read
 * it, cancel it. A pipeline is also a job of type {@code pipeline} in /api/v1/jobs.
 */
@RestController
@RequestMapping("/api/v1/pipelines")
@Tag(name = "pipelines")
class PipelinesController {

    private final PipelineSubmissions submissions;
    private final JobService jobs;
    private final ArtifactRepository artifacts;
    private final List<String> services;
    private final JsonMapper json;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    PipelinesController(PipelineSubmissions submissions, JobService jobs, ArtifactRepository artifacts, JsonMapper json,
                        @Value("${amalgam.gateway.pipeline-services:${amalgam.services.merge-url},${amalgam.services.pruning-url},${amalgam.services.fusion-url}}")
                        List<String> services) {
        this.submissions = submissions;
        this.jobs = jobs;
        this.artifacts = artifacts;
        this.json = json;
        this.services = List.copyOf(services);
    }

    /** The request body, for the API description (it is read field by field, so that every problem is answered). */
    @Schema(name = "PipelineSpec", description = "Steps run as ordinary jobs; a step's spec refers to an earlier step's output with"
            + " ${steps.NAME.outputs.KIND} (KIND: model, dataset, report, checkpoint) in any of its strings")
    record PipelineRequest(@Schema(requiredMode = Schema.RequiredMode.REQUIRED) List<StepRequest> steps) {
    }

    /** One step of {@link PipelineRequest}. */
    @Schema(name = "PipelineStep")
    record StepRequest(
            @Schema(requiredMode = Schema.RequiredMode.REQUIRED, description = "unique in the pipeline: 1-64 of A-Z a-z 0-9 _ -",
                    example = "prune") String name,
            @Schema(requiredMode = Schema.RequiredMode.REQUIRED, description = "a job type: merge, prune, evaluate, fuse, ...",
                    example = "prune") String type,
            @Schema(requiredMode = Schema.RequiredMode.REQUIRED, description = "the job spec of the type, as its own endpoint takes it")
            Map<String, Object> spec) {
    }

    /** A pipeline: its job, and each step with the job that runs it once submitted. */
    @Schema(name = "Pipeline")
    record PipelineView(JobView pipeline, List<StepView> steps) {
    }

    /** A step of {@link PipelineView}. */
    @Schema(name = "PipelineStepState")
    record StepView(String name, String type, List<String> dependsOn, UUID job, String status) {
    }

    @PostMapping
    @Operation(summary = "Queue a pipeline: steps that are ordinary jobs, each validated up front by its job type")
    ResponseEntity<JobView> submit(Caller caller,
                                   @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true,
                                           content = @Content(schema = @Schema(implementation = PipelineRequest.class)))
                                   @RequestBody JsonNode body,
                                   @RequestHeader(value = "Idempotency-Key", required = false) String idempotencyKey,
                                   @RequestHeader(value = "Authorization") String authorization) {
        var checker = new ServiceStepChecks(http, services, authorization, json);
        var submission = submissions.submit(caller, body, idempotencyKey, checker);
        Job job = submission.job();
        return ResponseEntity.status(HttpStatus.ACCEPTED).location(URI.create("/api/v1/pipelines/" + job.id()))
                .header("Idempotent-Replayed", Boolean.toString(submission.replayed()))
                .body(JobView.of(job, artifacts.lineageOfJob(job.id())));
    }

    @GetMapping("/{id}")
    @Operation(summary = "Get a pipeline: its status, progress and lineage, and each step's job and status")
    PipelineView get(Caller caller, @PathVariable UUID id) {
        Job job = pipeline(caller, id);
        var spec = dev.amalgam.platform.pipeline.PipelineSpecReader.stored(job.spec());
        List<StepView> steps = spec.steps().stream().map(s -> {
            JsonNode state = job.result() == null ? null : job.result().path("steps").get(s.name());
            UUID stepJob = state == null || !state.path("job").isString() ? null : UUID.fromString(state.path("job").stringValue());
            // the step's own job is the truth; the pipeline's result is as of its last pass
            String status = stepJob == null ? "PENDING" : jobs.get(caller.tenantId(), stepJob).status().name();
            return new StepView(s.name(), s.type(), s.dependsOn().stream().sorted().toList(), stepJob, status);
        }).toList();
        return new PipelineView(JobView.of(job, artifacts.lineageOfJob(id)), steps);
    }

    @PostMapping("/{id}/cancel")
    @Operation(summary = "Cancel a pipeline: its live steps are cancelled and no further step starts")
    JobView cancel(Caller caller, @PathVariable UUID id) {
        pipeline(caller, id);
        return JobView.of(jobs.cancel(caller.tenantId(), id), artifacts.lineageOfJob(id));
    }

    private Job pipeline(Caller caller, UUID id) {
        Job job = jobs.get(caller.tenantId(), id);
        if (!job.type().equals(PipelineRepository.TYPE)) {
            throw ApiException.notFound("Pipeline", id);
        }
        return job;
    }
}
