package dev.amalgam.fusion;

import dev.amalgam.job.Progress;

import dev.amalgam.fusion.build.BuildSettings;
import dev.amalgam.fusion.build.CandidatesJsonl;
import dev.amalgam.fusion.build.PairRule;
import dev.amalgam.fusion.build.PreferenceDataBuilder;
import dev.amalgam.fusion.build.PreferenceDataBuilder.SplitPrompts;
import dev.amalgam.fusion.build.PromptCandidates;
import dev.amalgam.fusion.build.ResponseScorer;
import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.UnsupportedModelException;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.node.ObjectNode;

/**
 * The whole reference method from prompts with source candidates: split the prompts (a third for SFT), SFT the target
 * on the best source responses, sample the SFT model's own responses on the other prompts and pick y_wt / y_l with
 * the reward model, then WRPO with the SFT model as reference. Every phase leaves its result in {@code workDir}
 * ({@code data/sft.jsonl}, {@code sft-model/}, {@code data/preference.jsonl}, and the runs' own work directories
 * {@code sft/} and {@code wrpo/}), so a second call after a crash skips what is done and resumes the training runs.
 *
 * <pre>{@code
 * FusionResult r = WrpoPipeline.run(spec, candidates, rewardModelDir, targetDir, null, BuildSettings.reference(),
 *         workDir, outDir, listener);
 * }</pre>
 */
public final class WrpoPipeline {

    private WrpoPipeline() {
    }

    /**
     * @param spec the job; its {@code stages} choose whether the SFT phase runs (without it the original target
     *     samples and is the reference)
     * @param candidatesJsonl prompts with source (and optionally target) responses, see {@link CandidatesJsonl}
     * @param rewardModelDirOrNull scores unscored responses (null if every response carries a score)
     */
    public static FusionResult run(FusionSpec spec, Path candidatesJsonl, Path rewardModelDirOrNull,
            Path targetModelDir, Path evalJsonlOrNull, BuildSettings build, Path workDir, Path outDir,
            Progress listener) {
        List<String> problems = validate(spec, build, targetModelDir);
        if (!problems.isEmpty()) {
            throw new InvalidFusionSpecException(problems);
        }
        Path data = workDir.resolve("data");
        Path sftData = data.resolve("sft.jsonl");
        Path preferenceData = data.resolve("preference.jsonl");
        Path sftModel = workDir.resolve("sft-model");
        try {
            Files.createDirectories(data);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + data, e);
        }
        List<PromptCandidates> prompts = CandidatesJsonl.readAll(candidatesJsonl);
        var options = FusionRunner.engineOptions(spec.device());
        try (ResponseScorer scorer = rewardModelDirOrNull == null ? null
                : ResponseScorer.rewardModel(rewardModelDirOrNull, options)) {
            SplitPrompts split = PreferenceDataBuilder.split(prompts, scorer, build);
            if (!Files.isRegularFile(sftData)) {
                writeAtomically(sftData, split.sft());
            }
            Path reference = targetModelDir;
            if (spec.runs(FusionSpec.SFT)) {
                if (!Files.isRegularFile(sftModel.resolve(FusionReport.FILE))) {
                    listener.progress(0.0, "SFT stage on " + split.sft().size() + " prompts");
                    // FP32 so that the reference of the preference stage is the SFT model without rounding.
                    FusionRunner.run(withFields(spec, Map.of("stages", "sft", "outputDtype", "fp32")), targetModelDir,
                            sftData, null, workDir.resolve("sft"), sftModel, scaled(listener, 0.0, 0.4));
                }
                reference = sftModel;
            }
            if (!Files.isRegularFile(preferenceData)) {
                listener.progress(0.4, "sampling the target's own responses on " + split.preferenceIndices().size()
                        + " prompts");
                // fusechat3 pairs come from the sources: no target to sample
                boolean samples = build.pairRule() == PairRule.WRPO;
                try (LlamaModel target = samples ? CheckpointLoader.load(reference, options) : null;
                        TextTokenizer tokenizer = samples ? TextTokenizer.load(reference) : null) {
                    PreferenceDataBuilder.Completed built = PreferenceDataBuilder.completeCounted(prompts,
                            split.preferenceIndices(), scorer, target, tokenizer, build);
                    listener.progress(0.45, "built " + built.records().size() + " preference records; dropped "
                            + built.identicalSamples() + " prompts whose own samples were identical and "
                            + built.noPairInMargin() + " without a same-source pair in the margin window");
                    writeAtomically(preferenceData, built.records());
                }
            }
            return FusionRunner.run(withFields(spec, Map.of("stages", "wrpo")), reference, preferenceData,
                    evalJsonlOrNull, workDir.resolve("wrpo"), outDir, scaled(listener, 0.5, 1.0));
        }
    }

    /**
     * Every problem of {@code spec} and {@code build} for the target in {@code targetModelDir}, reading only its
     * config.json: the target (or its SFT copy, of the same shape) trains on the records and samples the responses,
     * so both must fit its context. Problems of {@code build} start with {@code build: }.
     */
    public static List<String> validate(FusionSpec spec, BuildSettings build, Path targetModelDir) {
        List<String> problems = new ArrayList<>(FusionRunner.validate(spec, targetModelDir));
        try {
            LlamaConfig target = LlamaConfig.read(targetModelDir.resolve(HfModelDir.CONFIG_FILE));
            build.validateFor(target).forEach(p -> problems.add("build: " + p));
        } catch (UnsupportedModelException | UncheckedIOException e) {
            problems.add("target: " + e.getMessage());
        }
        return problems.stream().distinct().toList();
    }

    private static FusionSpec withFields(FusionSpec spec, Map<String, String> fields) {
        ObjectNode json = spec.toJson();
        fields.forEach(json::put);
        return FusionSpec.fromJson(json);
    }

    private static void writeAtomically(Path file, List<PreferenceRecord> records) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        PreferenceJsonl.write(tmp, records);
        try {
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Maps a phase's progress 0..1 onto [from, to] of the whole pipeline. */
    private static Progress scaled(Progress listener, double from, double to) {
        return new Progress() {
            @Override
            public void metrics(String stage, long step, Map<String, ? extends Number> values) {
                listener.metrics(stage, step, values);
            }

            @Override
            public void progress(double fraction, String message) {
                listener.progress(from + (to - from) * fraction, message);
            }

            @Override
            public boolean isCancelled() {
                return listener.isCancelled();
            }
        };
    }
}
