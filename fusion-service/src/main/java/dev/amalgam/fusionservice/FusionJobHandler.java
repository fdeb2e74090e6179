package dev.amalgam.fusionservice;

import dev.amalgam.fusion.FusionCancelledException;
import dev.amalgam.fusion.FusionListener;
import dev.amalgam.fusion.FusionResult;
import dev.amalgam.fusion.FusionRunner;
import dev.amalgam.fusion.FusionSpec;
import dev.amalgam.fusion.WrpoPipeline;
import dev.amalgam.fusion.build.BuildSettings;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.worker.JobCancelledException;
import dev.amalgam.platform.worker.JobContext;
import dev.amalgam.platform.worker.JobHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Runs a fusion job with the fusion library. Training checkpoints live in the job's work directory,
 * which survives the worker, so a later attempt resumes from the last checkpoint; every optimizer step's
 * metrics become job events; the trained target and its report are published with lineage.
 */
@Component
class FusionJobHandler implements JobHandler {

    @Override
    public String type() {
        return FusionJobSpec.TYPE;
    }

    @Override
    public JsonNode handle(JobContext ctx) {
        JsonNode spec = ctx.spec();
        List<String> errors = new ArrayList<>();
        FusionSpec training = FusionJobSpec.trainingSpec(spec, errors);
        boolean fromCandidates = spec.hasNonNull("candidates");
        BuildSettings build = fromCandidates ? FusionJobSpec.buildSettings(spec, errors) : null;
        if (!errors.isEmpty()) {
            throw new IllegalStateException("The stored spec is no longer valid: " + errors);
        }
        Artifact target = ctx.artifact(UUID.fromString(spec.get("target").asString()));
        Artifact data = ctx.artifact(UUID.fromString(spec.get(fromCandidates ? "candidates" : "data").asString()));
        Artifact rewardModel = spec.hasNonNull("rewardModel") ? ctx.artifact(UUID.fromString(spec.get("rewardModel").asString())) : null;
        Artifact eval = spec.hasNonNull("evalData") ? ctx.artifact(UUID.fromString(spec.get("evalData").asString())) : null;
        Path out = ctx.newStagingDir();
        Path evalFile = eval == null ? null : eval.singleFile();
        FusionResult result;
        try {
            result = fromCandidates
                    ? WrpoPipeline.run(training, data.singleFile(), rewardModel == null ? null : rewardModel.dir(), target.dir(), evalFile,
                            build, ctx.workDir(), out, listener(ctx))
                    : FusionRunner.run(training, target.dir(), data.singleFile(), evalFile, ctx.workDir(), out, listener(ctx));
        } catch (FusionCancelledException e) {
            throw new JobCancelledException();
        }
        if (result.resumedFrom() != null) {
            ctx.log("Resumed from checkpoint " + result.resumedFrom().getFileName());
        }
        List<UUID> inputs = new ArrayList<>(List.of(target.id(), data.id()));
        if (rewardModel != null) {
            inputs.add(rewardModel.id());
        }
        if (eval != null) {
            inputs.add(eval.id());
        }
        String name = spec.get("name").asString();
        List<JobContext.Output> outputs = new ArrayList<>();
        // the report may sit inside the model directory: take it out before the model is published
        Path reportDir = ctx.newStagingDir();
        try {
            Files.move(result.report(), reportDir.resolve(result.report().getFileName()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        outputs.add(new JobContext.Output(ArtifactKind.MODEL, name, result.modelDir()));
        outputs.add(new JobContext.Output(ArtifactKind.REPORT, FusionJobSpec.reportName(name), reportDir));
        if (fromCandidates) {
            // the records the job built, in the reference format, for inspection and reuse
            Path built = ctx.newStagingDir();
            try {
                Files.copy(ctx.workDir().resolve("data/preference.jsonl"), built.resolve("preference.jsonl"));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            outputs.add(new JobContext.Output(ArtifactKind.DATASET, FusionJobSpec.preferencesName(name), built));
        }
        // every output is published together or not at all
        List<Artifact> published = ctx.publishAll(outputs, inputs);
        Artifact model = published.get(0);
        Artifact report = published.get(1);
        Artifact preferences = fromCandidates ? published.get(2) : null;
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("model", model.id().toString());
        summary.put("report", report.id().toString());
        if (preferences != null) {
            summary.put("preferences", preferences.id().toString());
        }
        summary.put("stepsByStage", result.stepsByStage());
        summary.put("finalMetrics", result.finalMetrics());
        summary.put("resumed", result.resumedFrom() != null);
        return ctx.json().valueToTree(summary);
    }

    private static FusionListener listener(JobContext ctx) {
        return new FusionListener() {
            @Override
            public void metrics(String stage, long step, Map<String, Double> values) {
                ctx.metrics(stage, step, values);
            }

            @Override
            public void progress(double fraction, String message) {
                ctx.progress(fraction, message);
            }

            @Override
            public boolean cancelled() {
                return ctx.isCancelled();
            }
        };
    }
}
