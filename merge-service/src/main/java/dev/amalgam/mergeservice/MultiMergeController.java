package dev.amalgam.mergeservice;

import dev.amalgam.job.SpecReader;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.jobtype.TenantInputs;
import dev.amalgam.platform.pipeline.PipelineSubmissions;
import dev.amalgam.platform.pipeline.StepChecks;
import dev.amalgam.platform.web.JobView;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code POST /api/v1/merges/multi}: mergekit's multi-stage YAML ({@code mergekit-multi}) queued as a merge pipeline
 * ({@link MergekitPipelines}); the answer is the pipeline's job, followed at {@code /api/v1/pipelines/{id}}.
 */
@RestController
@Tag(name = "merges")
class MultiMergeController {

    private final PipelineSubmissions submissions;
    private final MergeJobType merge;
    private final ArtifactService artifacts;
    private final ArtifactRepository lineage;

    MultiMergeController(PipelineSubmissions submissions, MergeJobType merge, ArtifactService artifacts, ArtifactRepository lineage) {
        this.submissions = submissions;
        this.merge = merge;
        this.artifacts = artifacts;
        this.lineage = lineage;
    }

    /** The request body. */
    @Schema(name = "MultiMergeSpec")
    record MultiMergeRequest(
            @Schema(requiredMode = Schema.RequiredMode.REQUIRED, description = "mergekit multi-stage YAML: documents with a name;"
                    + " later ones name earlier ones as models; at most one unnamed (final) document") String configYaml,
            @Schema(requiredMode = Schema.RequiredMode.REQUIRED, description = "the final merge's MODEL name; stage NAME publishes OUTPUT-NAME")
            String output,
            @Schema(description = "seed of every merge step (default 0)") Long seed) {
    }

    @PostMapping("/api/v1/merges/multi")
    @Operation(summary = "Queue mergekit's multi-stage YAML (mergekit-multi) as a pipeline of merges")
    ResponseEntity<JobView> submit(Caller caller,
                                   @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true,
                                           content = @Content(schema = @Schema(implementation = MultiMergeRequest.class)))
                                   @RequestBody JsonNode body,
                                   @RequestHeader(value = "Idempotency-Key", required = false) String idempotencyKey) {
        SpecReader r = SpecReader.of(body);
        String yaml = r.requiredString("configYaml", "the multi-stage mergekit YAML");
        String output = r.requiredString("output", "the name of the final merged MODEL");
        Long seed = r.has("seed") ? r.longInteger("seed", 0) : null;
        r.finish();
        if (!r.problems().isEmpty()) {
            throw ApiException.invalid(r.problems());
        }
        ObjectNode pipeline;
        try {
            pipeline = MergekitPipelines.toPipeline(yaml, output, seed);
        } catch (MergeConfigException e) {
            throw ApiException.invalid(e.problems().stream().map(p -> "configYaml: " + p).toList());
        }
        var checker = PipelineSubmissions.local(new StepChecks(List.of(merge)), new TenantInputs(artifacts, caller.tenantId()));
        var submission = submissions.submit(caller, pipeline, idempotencyKey, checker);
        Job job = submission.job();
        return ResponseEntity.status(HttpStatus.ACCEPTED).location(URI.create("/api/v1/pipelines/" + job.id()))
                .header("Idempotent-Replayed", Boolean.toString(submission.replayed()))
                .body(JobView.of(job, lineage.lineageOfJob(job.id())));
    }
}
