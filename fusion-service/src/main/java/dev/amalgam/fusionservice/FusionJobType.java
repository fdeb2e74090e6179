package dev.amalgam.fusionservice;

import dev.amalgam.fusion.FusionResult;
import dev.amalgam.fusion.FusionRunner;
import dev.amalgam.fusion.FusionSpec;
import dev.amalgam.fusion.WrpoPipeline;
import dev.amalgam.fusion.build.BuildSettings;
import dev.amalgam.fusion.build.PairRule;
import dev.amalgam.fusion.data.PreferenceDataset;
import dev.amalgam.job.SpecReader;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.Published;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * The fusion job: WRPO (or DPO/IPO/SimPO) training of the target with the fusion library. Training checkpoints live
 * in the job's work directory, which survives the worker, so a later attempt resumes from the last checkpoint; every
 * optimizer step's metrics become job events; the trained target and its report (and, from candidates, the built
 * preference records) are published together, with lineage.
 */
@Component
public final class FusionJobType implements JobType<FusionJobSpec, FusionJobType.ValidFusion, FusionJobResult> {

    /** A validated fusion job; {@code build} is null when it trains on preference records. */
    public record ValidFusion(FusionSpec training, JobInput target, JobInput data, String split, JobInput rewardModel,
                              BuildSettings build, JobInput evalData, String name) implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            List<JobInput> inputs = new ArrayList<>(List.of(target, data));
            if (rewardModel != null) {
                inputs.add(rewardModel);
            }
            if (evalData != null) {
                inputs.add(evalData);
            }
            return inputs;
        }

        boolean fromCandidates() {
            return build != null;
        }
    }

    @Override
    public String name() {
        return "fuse";
    }

    @Override
    public int specVersion() {
        return 1;
    }

    @Override
    public String path() {
        return "/api/v1/fusions";
    }

    @Override
    public String summary() {
        return "Queue a fusion job: target SFT then WRPO (or DPO/IPO/SimPO) on preference data";
    }

    @Override
    public Class<FusionJobSpec> specClass() {
        return FusionJobSpec.class;
    }

    @Override
    public Class<FusionJobResult> resultClass() {
        return FusionJobResult.class;
    }

    @Override
    public FusionJobSpec read(SpecReader json) {
        String target = json.string("target");
        String data = json.string("data");
        String split = json.string("split");
        String candidates = json.string("candidates");
        String rewardModel = json.string("rewardModel");
        BuildSettings build = null;
        if (json.has("build")) {
            SpecReader b = json.object("build");
            build = b == null ? null : buildSettings(b);
        }
        String evalData = json.string("evalData");
        String name = json.requiredString("name", "the name of the trained MODEL artifact");
        FusionSpec spec = FusionSpec.read(json);
        return new FusionJobSpec(target, data, split, candidates, rewardModel, build, evalData, name, spec);
    }

    /** The data-construction settings: the reference's, overridden by the fields given. */
    private static BuildSettings buildSettings(SpecReader b) {
        BuildSettings d = BuildSettings.reference();
        int before = b.problems().size();
        double sftFraction = b.number("sftFraction", -Double.MAX_VALUE, Double.MAX_VALUE, d.sftFraction());
        int targetSamples = b.integer("targetSamples", 2, BuildSettings.MAX_TARGET_SAMPLES, d.targetSamples());
        int maxNewTokens = b.integer("maxNewTokens", 0, BuildSettings.MAX_NEW_TOKENS, d.maxNewTokens());
        double temperature = b.number("temperature", -Double.MAX_VALUE, Double.MAX_VALUE, d.temperature());
        double topP = b.number("topP", -Double.MAX_VALUE, Double.MAX_VALUE, d.topP());
        long seed = b.longInteger("seed", d.seed());
        PairRule pairRule = d.pairRule();
        String pairRuleId = b.string("pairRule");
        if (pairRuleId != null) {
            try {
                pairRule = PairRule.fromId(pairRuleId);
            } catch (IllegalArgumentException e) {
                b.problem("pairRule", e.getMessage());
            }
        }
        double minMargin = b.number("minMargin", 0, Double.MAX_VALUE, d.minMargin());
        double maxMargin = b.number("maxMargin", 0, Double.MAX_VALUE, d.maxMargin());
        if (b.problems().size() > before) {
            return null;
        }
        try {
            return new BuildSettings(sftFraction, targetSamples, maxNewTokens, temperature, topP, seed, pairRule,
                    minMargin, maxMargin);
        } catch (IllegalArgumentException e) {
            b.problem(e.getMessage());
            return null;
        }
    }

    @Override
    public ValidFusion validate(FusionJobSpec spec, JobInputs inputs, List<String> problems) {
        JobInput target = inputs.model("target", spec.target(), problems);
        boolean fromCandidates = spec.candidates() != null;
        if (fromCandidates == (spec.data() != null)) {
            problems.add("data: give exactly one of 'data' (preference records) or 'candidates' (prompts with source responses)");
        }
        JobInput data = fromCandidates ? inputs.jsonlDataset("candidates", spec.candidates(), problems)
                : inputs.dataset("data", spec.data(), problems);
        if (spec.split() != null && fromCandidates) {
            problems.add("split: only used with 'data'");
        } else if (data != null && !fromCandidates) {
            // a JSONL/Parquet file or a directory with the split asked for (names only; records are read by the run)
            problems.addAll(PreferenceDataset.layoutProblems(data.location(), spec.split(), "data '" + spec.data() + "'")
                    .stream().map(p -> "data: " + p).toList());
        }
        JobInput rewardModel = spec.rewardModel() == null ? null : inputs.model("rewardModel", spec.rewardModel(), problems);
        if (spec.rewardModel() != null && !fromCandidates) {
            problems.add("rewardModel: only used with 'candidates'");
        }
        BuildSettings build = spec.build();
        if (fromCandidates && build == null && !problems.stream().anyMatch(p -> p.startsWith("build"))) {
            build = BuildSettings.reference();
        }
        if (!fromCandidates && (spec.build() != null || problems.stream().anyMatch(p -> p.startsWith("build")))) {
            problems.add("build: only used with 'candidates'");
        }
        if (target != null && spec.training() != null && (!fromCandidates || build != null)) {
            // lengths are checked against the target's context, from its config.json alone
            problems.addAll(fromCandidates ? WrpoPipeline.validate(spec.training(), build, target.location())
                    : FusionRunner.validate(spec.training(), target.location()));
        }
        JobInput eval = spec.evalData() == null ? null : inputs.dataset("evalData", spec.evalData(), problems);
        if (spec.name() != null) {
            Map<String, String> names = new LinkedHashMap<>();
            names.put("the trained model", spec.name());
            names.put("the report", FusionJobSpec.reportName(spec.name()));
            names.put("the built preference records", FusionJobSpec.preferencesName(spec.name()));
            if (!fromCandidates) {
                // not published, but kept free so that a later run from candidates can publish under this name
                names.remove("the built preference records");
                inputs.checkOutputNames("name", names, problems);
                inputs.requireNamesFree("name", List.of(FusionJobSpec.preferencesName(spec.name())), problems);
            } else {
                inputs.checkOutputNames("name", names, problems);
            }
        }
        return problems.isEmpty()
                ? new ValidFusion(spec.training(), target, data, spec.split(), rewardModel, fromCandidates ? build : null, eval,
                        spec.name())
                : null;
    }

    @Override
    public FusionJobResult run(ValidFusion job, JobRun run) {
        Path out = run.newStagingDir();
        Path evalFile = job.evalData() == null ? null : job.evalData().location();
        // the job's own progress and cancellation reach the trainer as they are
        FusionResult result = job.fromCandidates()
                ? WrpoPipeline.run(job.training(), job.data().location(),
                        job.rewardModel() == null ? null : job.rewardModel().location(), job.target().location(), evalFile,
                        job.build(), run.workDir(), out, run)
                : FusionRunner.run(job.training(), job.target().location(), job.data().location(), job.split(), evalFile,
                        run.workDir(), out, run);
        if (result.resumedFrom() != null) {
            run.log("Resumed from checkpoint " + result.resumedFrom().getFileName());
        }
        List<JobOutput> outputs = new ArrayList<>();
        try {
            // the report may sit inside the model directory: take it out before the model is published
            Path reportDir = run.newStagingDir();
            Files.move(result.report(), reportDir.resolve(result.report().getFileName()));
            outputs.add(new JobOutput(ArtifactKind.MODEL, "model", job.name(), result.modelDir()));
            outputs.add(new JobOutput(ArtifactKind.REPORT, "report", FusionJobSpec.reportName(job.name()), reportDir));
            if (job.fromCandidates()) {
                // the records the job built, in the reference format, for inspection and reuse
                Path built = run.newStagingDir();
                Files.copy(run.workDir().resolve("data/preference.jsonl"), built.resolve("preference.jsonl"));
                outputs.add(new JobOutput(ArtifactKind.DATASET, "preferences", FusionJobSpec.preferencesName(job.name()), built));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // every output is published together or not at all
        List<Published> published = run.publishAll(outputs, job.inputs());
        return new FusionJobResult(published.get(0).reference(), published.get(1).reference(),
                job.fromCandidates() ? published.get(2).reference() : null, result.stepsByStage(), result.finalMetrics(),
                result.resumedFrom() != null);
    }
}
