package dev.amalgam.fusionservice;

import dev.amalgam.fusion.FusionResult;
import dev.amalgam.fusion.FusionRunner;
import dev.amalgam.fusion.FusionSpec;
import dev.amalgam.fusion.WrpoPipeline;
import dev.amalgam.fusion.build.BuildSettings;
import dev.amalgam.fusion.build.PairRule;
import dev.amalgam.fusion.fusechat.repr.RepresentationReader;
import dev.amalgam.fusion.fusechat.repr.TokenizerVocabulary;
import dev.amalgam.fusion.fusechat.train.FuseChatRunner;
import dev.amalgam.fusion.fusechat.train.FuseChatSpec;
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
 *
 * <p>{@code method: "fusechat"} runs FuseChat stage 1 instead ({@link FuseChatRunner}): the target (the pivot) trained
 * towards one source's distributions, aligned and fused from the two models' representation datasets; it publishes the
 * trained model and its report the same way.
 */
@Component
public final class FusionJobType implements JobType<FusionJobSpec, FusionJobType.ValidFusion, FusionJobResult> {

    /** A validated fusion job; {@code build} is null when it trains on preference records. */
    public record ValidFusion(FusionSpec training, JobInput target, JobInput data, String split, JobInput rewardModel,
                              BuildSettings build, JobInput evalData, String name, FuseChatJob fusechat)
            implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            if (fusechat != null) {
                return List.of(target, fusechat.source(), fusechat.pivotRepresentations(),
                        fusechat.sourceRepresentations());
            }
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

    /** The inputs and training spec of a validated {@code method: "fusechat"} job. */
    public record FuseChatJob(FuseChatSpec spec, JobInput source, JobInput pivotRepresentations,
                              JobInput sourceRepresentations) {
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
        return "Queue a fusion job: target SFT then WRPO (or DPO/IPO/SimPO) on preference data, or with method "
                + "fusechat FuseChat's pairwise knowledge fusion from representation datasets";
    }

    /** The spellings the spec reads for FuseChat's enumerated fields (the schema would show the Java names). */
    @Override
    public Map<String, List<String>> allowedValues() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("method", List.of(FusionJobSpec.WRPO, FusionJobSpec.FUSECHAT));
        m.put("fusionFunction", List.of("min_ce", "avg_ce"));
        m.put("metricLevel", List.of("sequence", "token"));
        m.put("distillLoss", List.of("ce", "kl"));
        m.put("lambdaSchedule", List.of("fixed", "rising"));
        m.put("vocabMapping", List.of("ms", "mined"));
        return m;
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
        String method = json.oneOf("method", List.of(FusionJobSpec.WRPO, FusionJobSpec.FUSECHAT), FusionJobSpec.WRPO);
        String source = json.string("source");
        String pivotRepresentations = json.string("pivotRepresentations");
        String sourceRepresentations = json.string("sourceRepresentations");
        if (FusionJobSpec.FUSECHAT.equals(method)) {
            // FuseChat's own training fields; WRPO's inputs are read so that they can be refused by name
            String target = json.string("target");
            String data = json.string("data");
            String candidates = json.string("candidates");
            String rewardModel = json.string("rewardModel");
            String evalData = json.string("evalData");
            BuildSettings build = json.has("build") ? BuildSettings.reference() : null;
            json.allow("build");
            String name = json.requiredString("name", "the name of the trained MODEL artifact");
            FuseChatSpec fusechat = FuseChatSpec.read(json);
            String split = json.string("split");
            return new FusionJobSpec(target, data, split, candidates, rewardModel, build, evalData, name, null, method, source,
                    pivotRepresentations, sourceRepresentations, fusechat);
        }
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
        return new FusionJobSpec(target, data, split, candidates, rewardModel, build, evalData, name, spec,
                method == null ? FusionJobSpec.WRPO : method, source, pivotRepresentations, sourceRepresentations, null);
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
        if (spec.isFuseChat()) {
            return validateFuseChat(spec, inputs, problems);
        }
        for (String[] f : new String[][] {{"source", spec.source()}, {"pivotRepresentations", spec.pivotRepresentations()},
                {"sourceRepresentations", spec.sourceRepresentations()}}) {
            if (f[1] != null) {
                problems.add(f[0] + ": only used with method fusechat");
            }
        }
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
        if (target != null && spec.training() != null && spec.training().validate().isEmpty()
                && (!fromCandidates || build != null)) {
            // lengths are checked against the target's context, from its config.json alone (the values' own
            // problems were listed when the spec was read, so they are not listed twice)
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
                        spec.name(), null)
                : null;
    }

    /** {@code method: "fusechat"}: the pivot, the source, their representation datasets, the spec, the names. */
    private static ValidFusion validateFuseChat(FusionJobSpec spec, JobInputs inputs, List<String> problems) {
        for (String[] f : new String[][] {{"data", spec.data()}, {"candidates", spec.candidates()},
                {"rewardModel", spec.rewardModel()}, {"evalData", spec.evalData()}}) {
            if (f[1] != null) {
                problems.add(f[0] + ": not used with method fusechat (it trains on pivotRepresentations and "
                        + "sourceRepresentations)");
            }
        }
        if (spec.build() != null) {
            problems.add("build: not used with method fusechat");
        }
        JobInput target = inputs.model("target", spec.target(), problems);
        JobInput source = inputs.model("source", spec.source(), problems);
        JobInput pivotRepr = inputs.datasetDirectory("pivotRepresentations", spec.pivotRepresentations(), problems);
        JobInput sourceRepr = inputs.datasetDirectory("sourceRepresentations", spec.sourceRepresentations(), problems);
        checkRepresentations("pivotRepresentations", pivotRepr, target, "target", problems);
        checkRepresentations("sourceRepresentations", sourceRepr, source, "source", problems);
        if (target != null && spec.fusechat() != null && spec.fusechat().validate().isEmpty()) {
            problems.addAll(FuseChatRunner.validate(spec.fusechat(), target.location()));
        }
        if (spec.name() != null) {
            Map<String, String> names = new LinkedHashMap<>();
            names.put("the trained model", spec.name());
            names.put("the report", FusionJobSpec.reportName(spec.name()));
            inputs.checkOutputNames("name", names, problems);
        }
        return problems.isEmpty() ? new ValidFusion(null, target, null, null, null, null, null, spec.name(),
                new FuseChatJob(spec.fusechat(), source, pivotRepr, sourceRepr)) : null;
    }

    /** A representation dataset, computed with a model of {@code model}'s tokenizer length. */
    private static void checkRepresentations(String field, JobInput repr, JobInput model, String modelField,
            List<String> problems) {
        if (repr == null) {
            return;
        }
        try (RepresentationReader r = RepresentationReader.open(repr.location())) {
            if (model != null) {
                int size = TokenizerVocabulary.read(model.location()).size();
                if (r.vocabSize() != size) {
                    problems.add(field + ": its vocab_size " + r.vocabSize() + " is not the " + modelField
                            + " tokenizer's length " + size + " (computed with another model?)");
                }
            }
        } catch (IllegalArgumentException | UncheckedIOException e) {
            problems.add(field + ": " + e.getMessage());
        }
    }

    @Override
    public FusionJobResult run(ValidFusion job, JobRun run) {
        Path out = run.newStagingDir();
        if (job.fusechat() != null) {
            return runFuseChat(job, run, out);
        }
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

    private static FusionJobResult runFuseChat(ValidFusion job, JobRun run, Path out) {
        FuseChatJob f = job.fusechat();
        FusionResult result = FuseChatRunner.run(f.spec(), job.target().location(), f.source().location(),
                f.pivotRepresentations().location(), f.sourceRepresentations().location(), run.workDir(), out, run);
        if (result.resumedFrom() != null) {
            run.log("Resumed from checkpoint " + result.resumedFrom().getFileName());
        }
        List<JobOutput> outputs = new ArrayList<>();
        try {
            Path reportDir = run.newStagingDir();
            Files.move(result.report(), reportDir.resolve(result.report().getFileName()));
            outputs.add(new JobOutput(ArtifactKind.MODEL, "model", job.name(), result.modelDir()));
            outputs.add(new JobOutput(ArtifactKind.REPORT, "report", FusionJobSpec.reportName(job.name()), reportDir));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Published> published = run.publishAll(outputs, job.inputs());
        return new FusionJobResult(published.get(0).reference(), published.get(1).reference(), null,
                result.stepsByStage(), result.finalMetrics(), result.resumedFrom() != null);
    }
}
