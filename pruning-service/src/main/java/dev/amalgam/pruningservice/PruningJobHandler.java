package dev.amalgam.pruningservice;

import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.worker.JobCancelledException;
import dev.amalgam.platform.worker.JobContext;
import dev.amalgam.platform.worker.JobHandler;
import dev.amalgam.pruning.PruneSpec;
import dev.amalgam.pruning.PruningCancelledException;
import dev.amalgam.pruning.PruningListener;
import dev.amalgam.pruning.PruningProgress;
import dev.amalgam.pruning.PruningResult;
import dev.amalgam.pruning.PruningRunner;
import dev.amalgam.pruning.PruningState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Runs a pruning job with the pruning library. The removal state after every search step is the job's
 * checkpoint, so a job whose worker died resumes at the next step; outputs are the pruned MODEL and
 * the REPORT artifact, with lineage to the model and datasets.
 */
@Component
class PruningJobHandler implements JobHandler {

    private final EngineOptions engine;

    PruningJobHandler(@Value("${amalgam.engine.device:cpu}") String device) {
        this.engine = EngineOptions.parse(device);
    }

    @Override
    public String type() {
        return PruningJobSpec.TYPE;
    }

    @Override
    public JsonNode handle(JobContext ctx) throws Exception {
        JsonNode spec = ctx.spec();
        List<String> errors = new ArrayList<>();
        PruneSpec pruneSpec = PruningJobSpec.pruneSpec(spec, errors);
        if (!errors.isEmpty()) {
            throw new IllegalStateException("The stored spec is no longer valid: " + errors);
        }
        Artifact model = ctx.artifact(UUID.fromString(spec.get("model").asString()));
        Artifact dataset = ctx.artifact(UUID.fromString(spec.get("dataset").asString()));
        Artifact eval = spec.hasNonNull("evalDataset") ? ctx.artifact(UUID.fromString(spec.get("evalDataset").asString())) : null;
        JsonNode saved = ctx.checkpoint();
        PruningState resume = saved == null ? null : PruningState.fromJson(saved);
        if (resume != null) {
            ctx.log("Resuming after step " + resume.steps().size() + " from the job's checkpoint");
        }
        Path out = ctx.newStagingDir();
        PruningResult result;
        try {
            result = PruningRunner.run(pruneSpec, model.dir(), dataset.singleFile(), eval == null ? null : eval.singleFile(), out,
                    resume, listener(ctx), engine);
        } catch (PruningCancelledException e) {
            throw new JobCancelledException();
        }
        List<UUID> inputs = new ArrayList<>(List.of(model.id(), dataset.id()));
        if (eval != null) {
            inputs.add(eval.id());
        }
        String name = spec.get("name").asString();
        Path reportDir = ctx.newStagingDir();
        Files.move(result.reportFile(), reportDir.resolve(PruningRunner.REPORT_FILE));
        // the model and its report are published together or not at all
        List<Artifact> published = ctx.publishAll(List.of(
                new JobContext.Output(ArtifactKind.MODEL, name, out.resolve(PruningRunner.MODEL_DIR)),
                new JobContext.Output(ArtifactKind.REPORT, PruningJobSpec.reportName(name), reportDir)), inputs);
        Artifact pruned = published.get(0);
        Artifact report = published.get(1);

        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", pruned.id().toString());
        summary.put("report", report.id().toString());
        summary.put("method", pruneSpec.method().specName());
        summary.put("removedBlocks", result.removedBlocks().stream().map(Object::toString).toList());
        summary.put("parameterRatio", result.parameterRatio());
        summary.put("calibrationPerplexityBefore", result.calibrationPerplexityBefore());
        summary.put("calibrationPerplexityAfter", result.calibrationPerplexityAfter());
        summary.put("evalPerplexityBefore", result.evalPerplexityBefore());
        summary.put("evalPerplexityAfter", result.evalPerplexityAfter());
        summary.put("denseParameters", result.denseParameters());
        summary.put("prunedParameters", result.prunedParameters());
        return ctx.json().valueToTree(summary);
    }

    private static PruningListener listener(JobContext ctx) {
        return new PruningListener() {
            @Override
            public void onStep(PruningProgress p) {
                ctx.saveCheckpoint(p.state().toJson());
                ctx.metrics(p.step(), Map.of("perplexity", p.perplexity(), "parameterRatio", p.parameterRatio()));
                ctx.progress(p.step() / (double) Math.max(1, p.totalSteps()),
                        "step " + p.step() + " of " + p.totalSteps() + ": removed " + p.removed() + ", perplexity "
                                + String.format("%.4f", p.perplexity()));
            }

            @Override
            public boolean isCancelled() {
                return ctx.isCancelled();
            }
        };
    }
}
