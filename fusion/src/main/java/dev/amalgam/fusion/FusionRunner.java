package dev.amalgam.fusion;

import dev.amalgam.job.CancelledException;

import dev.amalgam.job.Progress;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.amalgam.fusion.data.ChatTokenizer;
import dev.amalgam.fusion.data.PreferenceDataset;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.fusion.data.Split;
import dev.amalgam.fusion.data.TokenizedPreference;
import dev.amalgam.fusion.loss.AlphaSchedule;
import dev.amalgam.fusion.sft.PackedSft;
import dev.amalgam.fusion.train.AdamW;
import dev.amalgam.fusion.train.BatchPlan;
import dev.amalgam.fusion.train.CheckpointStore;
import dev.amalgam.fusion.train.CosineSchedule;
import dev.amalgam.fusion.train.FullFineTune;
import dev.amalgam.fusion.train.LoraModel;
import dev.amalgam.fusion.train.LossScaler;
import dev.amalgam.fusion.train.StepStats;
import dev.amalgam.fusion.train.TrainableModel;
import dev.amalgam.fusion.train.Trainer;
import dev.amalgam.fusion.wrpo.PreferenceEvaluation;
import dev.amalgam.fusion.wrpo.PreferenceMetrics;
import dev.amalgam.fusion.wrpo.PreferenceObjective;
import dev.amalgam.fusion.wrpo.ReferenceLogps;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.UnsupportedModelException;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * Runs a fusion job end to end: reads the records, tokenises them with the target's chat template, runs the stages
 * of the spec (target SFT on the best source responses, then the preference stage with the chosen loss against
 * cached reference log-probs), checkpoints every {@code checkpointEvery} steps into {@code workDir}, and saves the
 * trained target as a Hugging Face checkpoint plus {@code fusion_report.json} in {@code outDir}.
 *
 * <p>A call with a {@code workDir} that holds checkpoints of an earlier attempt resumes from the newest one; on the
 * CPU (same seed, same data) the result equals an uninterrupted run's.
 *
 * <pre>{@code
 * FusionResult r = FusionRunner.run(spec, targetDir, Path.of("wrpo.jsonl"), null, workDir, outDir, listener);
 * }</pre>
 */
public final class FusionRunner {

    private final FusionSpec spec;
    private final Progress listener;
    private final Path workDir;
    private final CheckpointStore store;
    private final FusionReport report;
    private long stepsBefore;
    private long stepsOverall;
    private String numerics = "";

    private FusionRunner(FusionSpec spec, Progress listener, Path workDir) {
        this.spec = spec;
        this.listener = listener;
        this.workDir = workDir;
        this.store = new CheckpointStore(workDir);
        this.report = new FusionReport(workDir.resolve("metrics.jsonl"));
    }

    /**
     * @param spec the job (validated here, also against the target's config.json; an invalid one throws
     *     {@link InvalidFusionSpecException})
     * @param targetModelDir the target LLM (Hugging Face directory with a chat template)
     * @param preferenceJsonl records, a JSONL or Parquet file or a dataset directory ({@link PreferenceDataset}: its
     *     train split; {@code split: "sft"} records feed the SFT stage; without any, SFT uses the source-best
     *     responses of the preference records)
     * @param evalJsonlOrNull held-out preference records for {@code eval_} metrics (a file, or a directory's test
     *     split), or null: then a data directory's test split, if it has one
     * @param workDir persistent across attempts: checkpoints, reference log-probs, metrics log
     * @param outDir receives the trained checkpoint and the report
     */
    public static FusionResult run(FusionSpec spec, Path targetModelDir, Path preferenceJsonl, Path evalJsonlOrNull,
            Path workDir, Path outDir, Progress listener) {
        return run(spec, targetModelDir, preferenceJsonl, null, evalJsonlOrNull, workDir, outDir, listener);
    }

    /**
     * As {@link #run(FusionSpec, Path, Path, Path, Path, Path, Progress)}, training on the split {@code splitOrNull}
     * of a dataset directory (null: {@code train}, else {@code train_prefs}; see {@link PreferenceDataset#read(Path,
     * String)}).
     */
    public static FusionResult run(FusionSpec spec, Path targetModelDir, Path preferenceData, String splitOrNull,
            Path evalJsonlOrNull, Path workDir, Path outDir, Progress listener) {
        List<String> problems = validate(spec, targetModelDir);
        if (!problems.isEmpty()) {
            throw new InvalidFusionSpecException(problems);
        }
        try {
            Files.createDirectories(workDir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot create " + workDir, e);
        }
        pinSpec(spec, workDir);
        // optimizer updates write parameters in place: autograd must be off outside the gradient collector
        dev.amalgam.modelengine.DjlRuntime.disableGradientsOnThisThread();
        return new FusionRunner(spec, listener, workDir).execute(targetModelDir, preferenceData, splitOrNull,
                evalJsonlOrNull, outDir);
    }

    /**
     * Every problem of {@code spec} for the target in {@code targetModelDir}, reading only its config.json (for a 422
     * before a job is queued): the spec's own problems, then records longer than the target's context.
     */
    public static List<String> validate(FusionSpec spec, Path targetModelDir) {
        List<String> problems = spec.validate();
        if (!problems.isEmpty()) {
            return problems;
        }
        try {
            return spec.validateFor(LlamaConfig.read(targetModelDir.resolve(HfModelDir.CONFIG_FILE)));
        } catch (UnsupportedModelException | java.io.UncheckedIOException e) {
            return List.of("target: " + e.getMessage());
        }
    }

    /** The first attempt records its spec; a later attempt on the same work dir must bring the same one. */
    static void pinSpec(FusionSpec spec, Path workDir) {
        Path file = workDir.resolve("spec.json");
        if (Files.isRegularFile(file)) {
            FusionSpec earlier = FusionSpec.fromJson(dev.amalgam.modelio.Json.read(file));
            if (!earlier.equals(spec)) {
                throw new IllegalStateException(workDir + " holds checkpoints of a job with another spec ("
                        + file + "); use a fresh work directory");
            }
        } else {
            dev.amalgam.modelio.Json.write(file, spec.toJson());
        }
    }

    /** {@code auto}: FP16 on GPU 0 when PyTorch sees one, else FP32 on the CPU. */
    public static EngineOptions engineOptions(String device) {
        if (device.equals("auto")) {
            return DjlRuntime.gpuCount() > 0 ? EngineOptions.gpuFp16(0) : EngineOptions.cpu();
        }
        return EngineOptions.parse(device);
    }

    private FusionResult execute(Path targetDir, Path dataFile, String split, Path evalFile, Path outDir) {
        long started = System.nanoTime();
        PreferenceDataset data = PreferenceDataset.read(dataFile, split);
        List<PreferenceRecord> all = data.train();
        List<PreferenceRecord> preference = all.stream().filter(r -> r.split() == Split.PREFERENCE).toList();
        List<PreferenceRecord> sft = all.stream().filter(r -> r.split() == Split.SFT).toList();
        boolean sftFromPreference = sft.isEmpty();
        if (sft.isEmpty()) {
            sft = preference; // no SFT split: train on the best source responses of the preference prompts
        }
        // held-out records: the eval file (a dataset directory's test split, else its train split), or without one
        // the data directory's own test split, as the reference evaluates on its dataset's test split
        PreferenceDataset evalData = evalFile == null ? null : PreferenceDataset.readHeldOut(evalFile);
        List<PreferenceRecord> evalAll = evalData == null ? data.test() : evalData.train();
        List<PreferenceRecord> eval = evalAll.stream().filter(r -> r.split() == Split.PREFERENCE).toList();
        if (spec.runs(FusionSpec.WRPO) && preference.isEmpty()) {
            throw new IllegalArgumentException(dataFile + " has no preference records");
        }
        if (spec.runs(FusionSpec.SFT) && sft.isEmpty()) {
            throw new IllegalArgumentException(dataFile + " has no records for the SFT stage");
        }
        ObjectNode dataReport = dev.amalgam.modelio.Json.object();
        String readMessage;
        dataReport.put("trainSplit", data.trainSplit());
        dataReport.put("testSplit", data.testSplit());
        dataReport.put("otherSplitsNotRead", String.join(",", data.otherSplits()));
        dataReport.put("filesNotRead", String.join(",", data.filesNotRead()));
        dataReport.put("preferenceRecords", preference.size());
        dataReport.put("sftRecords", sftFromPreference ? 0 : sft.size());
        dataReport.put("sftFromPreferenceRecords", sftFromPreference);
        dataReport.put("evalRecords", eval.size());
        dataReport.put("evalSftRecordsIgnored", evalAll.size() - eval.size());
        dataReport.put("blankLinesSkipped", data.blankLines() + (evalData == null ? 0 : evalData.blankLines()));
        EngineOptions options = engineOptions(spec.device());
        List<int[]> conversations = new ArrayList<>();
        List<TokenizedPreference> train = new ArrayList<>();
        List<TokenizedPreference> held = new ArrayList<>();
        try (TextTokenizer tokenizer = TextTokenizer.load(targetDir)) {
            ChatTokenizer ct = new ChatTokenizer(tokenizer, spec.maxLength(), spec.maxPromptLength(),
                    spec.tokenization());
            dataReport.put("tokenization", ct.mode().id());
            readMessage = "read " + preference.size() + " preference, " + (sftFromPreference ? 0 : sft.size())
                    + " SFT and " + eval.size() + " held-out records (tokenization " + ct.mode().id() + ")";
            if (spec.runs(FusionSpec.SFT)) {
                for (PreferenceRecord r : sft) {
                    conversations.add(ct.conversationIds(r.prompt(), r.sourceChosen()));
                }
            }
            for (PreferenceRecord r : preference) {
                train.add(ct.tokenize(r));
            }
            for (PreferenceRecord r : eval) {
                held.add(ct.tokenize(r));
            }
        }
        try (TrainableModel model = trainable(CheckpointLoader.load(targetDir, options))) {
            PackedSft packed = spec.runs(FusionSpec.SFT) ? PackedSft.pack(conversations, spec.maxLength(), spec.seed())
                    : null;
            List<BatchPlan> plans = new ArrayList<>();
            for (String stage : spec.stages()) {
                int n = stage.equals(FusionSpec.SFT) ? packed.chunks().size() : train.size();
                int epochs = stage.equals(FusionSpec.SFT) ? spec.sftEpochs() : spec.epochs();
                plans.add(new BatchPlan(n, spec.batchSize(), spec.gradAccum(), epochs, spec.seed(),
                        spec.stepAccounting()));
            }
            dataReport.put("stepAccounting", spec.stepAccounting().id());
            ObjectNode unused = dataReport.putObject("microBatchesWithoutStep");
            for (int i = 0; i < plans.size(); i++) {
                unused.put(spec.stages().get(i), plans.get(i).unusedMicroBatches());
            }
            stepsOverall = plans.stream().mapToLong(BatchPlan::totalSteps).sum();
            numerics = numerics(options);
            // Resume: parameters from the newest checkpoint; its optimizer too when its stage is unfinished.
            Optional<Path> latest = store.latest();
            int startStage = 0;
            long startStep = 0;
            if (latest.isPresent()) {
                CheckpointStore.State s = CheckpointStore.readState(latest.get());
                CheckpointStore.restoreParameters(latest.get(), model);
                boolean stageDone = s.nextStep() >= plans.get(s.stageIndex()).totalSteps();
                startStage = stageDone ? s.stageIndex() + 1 : s.stageIndex();
                startStep = stageDone ? 0 : s.nextStep();
                listener.progress(progressAt(plans, startStage, startStep), readMessage + "; resuming from "
                        + latest.get().getFileName());
                if (!s.numerics().isEmpty() && !s.numerics().equals(numerics)) {
                    listener.progress(progressAt(plans, startStage, startStep), "the checkpoint was computed with "
                            + s.numerics() + ", this attempt runs with " + numerics
                            + ": the result will not be bit-identical to an uninterrupted run");
                }
            }
            if (latest.isEmpty()) {
                listener.progress(0.0, readMessage);
            }
            Map<String, Long> steps = new LinkedHashMap<>();
            Map<String, Double> finalMetrics = new LinkedHashMap<>();
            for (int i = 0; i < spec.stages().size(); i++) {
                String stage = spec.stages().get(i);
                steps.put(stage, plans.get(i).totalSteps());
                if (i < startStage) {
                    continue;
                }
                stepsBefore = plans.subList(0, i).stream().mapToLong(BatchPlan::totalSteps).sum();
                Path resumeFrom = i == startStage && startStep > 0 ? latest.get() : null;
                long first = i == startStage ? startStep : 0;
                Map<String, Double> last = stage.equals(FusionSpec.SFT)
                        ? runSft(model, i, plans.get(i), packed, first, resumeFrom)
                        : runPreference(model, i, plans.get(i), train, held, first, resumeFrom);
                last.forEach((k, v) -> finalMetrics.put(stage + "/" + k, v));
            }
            listener.progress(0.99, "saving the trained model");
            HfCheckpointWriter.write(model, targetDir, outDir, HfCheckpointWriter.dtype(spec.outputDtype()));
            Path reportFile = report.write(outDir, spec, steps, finalMetrics, latest.orElse(null),
                    model.base().weights().parameterCount(), trainableCount(model), options,
                    (System.nanoTime() - started) / 1e9, dataReport);
            listener.progress(1.0, "done");
            return new FusionResult(outDir, reportFile, steps, finalMetrics, latest.orElse(null));
        }
    }

    /**
     * What the arithmetic depends on beyond the spec and the data, for comparing a checkpoint with the attempt that
     * resumes it: on the CPU, PyTorch's intra-op thread count (how reductions and MKL split their work) and MKL's
     * reproducibility mode (its code path); on a GPU only the device (no bit-identity is promised there).
     */
    public static String numerics(EngineOptions options) {
        if (options.device().isGpu()) {
            return "gpu";
        }
        String cbwr = System.getenv("MKL_CBWR");
        return "cpu, intra-op threads " + DjlRuntime.intraOpThreads() + ", MKL_CBWR="
                + (cbwr == null || cbwr.isBlank() ? "unset" : cbwr);
    }

    /** Wraps the loaded model for full fine-tuning or LoRA; frees it if wrapping fails. */
    private TrainableModel trainable(LlamaModel loaded) {
        try {
            return spec.lora() == null ? new FullFineTune(loaded) : new LoraModel(loaded, spec.lora(), spec.seed());
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
    }

    private static long trainableCount(TrainableModel model) {
        return model.parameters().stream().mapToLong(p -> p.master().size()).sum();
    }

    private double progressAt(List<BatchPlan> plans, int stage, long step) {
        long done = plans.subList(0, Math.min(stage, plans.size())).stream().mapToLong(BatchPlan::totalSteps).sum()
                + step;
        return 0.98 * done / Math.max(1, stepsOverall);
    }

    private Trainer newTrainer(TrainableModel model, NDManager optimizerManager, double lr, long totalSteps) {
        LossScaler scaler = model.base().options().computeType() == DataType.FLOAT16 ? LossScaler.dynamic()
                : LossScaler.none();
        return new Trainer(model, new AdamW(optimizerManager, 0.9, 0.999, 1e-8, spec.weightDecay()),
                CosineSchedule.withWarmupRatio(lr, totalSteps, spec.warmupRatio()), spec.maxGradNorm(), scaler);
    }

    private Map<String, Double> runSft(TrainableModel model, int stageIndex, BatchPlan plan, PackedSft sft,
            long firstStep, Path resumeFrom) {
        Map<String, Double> last = new LinkedHashMap<>();
        try (NDManager optimizerManager = model.base().manager().newSubManager()) {
            Trainer trainer = newTrainer(model, optimizerManager, spec.sftLr(), plan.totalSteps());
            if (resumeFrom != null) {
                CheckpointStore.restoreOptimizer(resumeFrom, trainer);
            }
            for (long step = firstStep; step < plan.totalSteps(); step++) {
                checkCancelled();
                List<int[]> micro = plan.step(step);
                sft.prepare(micro);
                StepStats stats = trainer.step(step, micro, sft);
                last = new LinkedHashMap<>();
                last.put("loss", sft.meanLoss());
                last.put("learning_rate", stats.learningRate());
                last.put("grad_norm", stats.gradNorm());
                last.put("epoch", plan.epochAfter(step));
                afterStep(FusionSpec.SFT, stageIndex, plan, step, last, model, trainer);
            }
        }
        return last;
    }

    private Map<String, Double> runPreference(TrainableModel model, int stageIndex, BatchPlan plan,
            List<TokenizedPreference> train, List<TokenizedPreference> held, long firstStep, Path resumeFrom) {
        ReferenceLogps refTrain = null;
        ReferenceLogps refEval = null;
        if (spec.loss().needsReference()) {
            refTrain = reference(model, train, workDir.resolve("reference-logps-train.json"), firstStep);
            refEval = held.isEmpty() ? null
                    : reference(model, held, workDir.resolve("reference-logps-eval.json"), firstStep);
        }
        AlphaSchedule alpha = spec.alphaSchedule().equals("fixed") ? AlphaSchedule.fixed(spec.alphaEnd())
                : AlphaSchedule.linear(spec.alphaEnd(), plan.alphaSteps());
        PreferenceMetrics metrics = new PreferenceMetrics();
        PreferenceObjective objective = new PreferenceObjective(train, refTrain, spec.loss(), spec.beta(),
                spec.simpoGamma(), spec.labelSmoothing(), spec.baselineChosen(), metrics);
        Map<String, Double> last = new LinkedHashMap<>();
        try (NDManager optimizerManager = model.base().manager().newSubManager()) {
            Trainer trainer = newTrainer(model, optimizerManager, spec.lr(), plan.totalSteps());
            if (resumeFrom != null) {
                CheckpointStore.restoreOptimizer(resumeFrom, trainer);
            }
            for (long step = firstStep; step < plan.totalSteps(); step++) {
                checkCancelled();
                double a = alpha.alpha(step);
                objective.prepare(a, plan.stepExamples(step));
                metrics.reset();
                StepStats stats = trainer.step(step, plan.step(step), objective);
                last = new LinkedHashMap<>(metrics.means(""));
                last.put("loss", stats.loss());
                last.put("alpha", a);
                last.put("learning_rate", stats.learningRate());
                last.put("grad_norm", stats.gradNorm());
                last.put("epoch", plan.epochAfter(step));
                boolean end = step + 1 == plan.totalSteps();
                if (!held.isEmpty() && (end || (spec.evalEvery() > 0 && (step + 1) % spec.evalEvery() == 0))) {
                    last.putAll(PreferenceEvaluation.evaluate(model, held, refEval, spec.loss(), a, spec.beta(),
                            spec.simpoGamma(), spec.labelSmoothing(), spec.baselineChosen(), spec.batchSize()));
                }
                afterStep(FusionSpec.WRPO, stageIndex, plan, step, last, model, trainer);
            }
        }
        return last;
    }

    private ReferenceLogps reference(TrainableModel model, List<TokenizedPreference> records, Path cache,
            long firstStep) {
        ReferenceLogps cached = ReferenceLogps.load(cache, records);
        if (cached != null) {
            return cached;
        }
        if (firstStep > 0) {
            throw new IllegalStateException("resuming the preference stage at step " + firstStep + " but " + cache
                    + " (reference log-probs of the SFT model) is missing or stale");
        }
        listener.progress(progressAt(List.of(), 0, stepsBefore), "computing reference log-probs");
        ReferenceLogps computed = ReferenceLogps.compute(model, records, spec.batchSize());
        computed.save(cache);
        return ReferenceLogps.load(cache, records); // use the stored values, exactly what a resumed run reads
    }

    private void afterStep(String stage, int stageIndex, BatchPlan plan, long step, Map<String, Double> values,
            TrainableModel model, Trainer trainer) {
        listener.metrics(stage, step + 1, values);
        report.log(stage, step + 1, values);
        long next = step + 1;
        if (next % spec.checkpointEvery() == 0 || next == plan.totalSteps()) {
            store.save(new CheckpointStore.State(stageIndex, stage, next, trainer.appliedUpdates(),
                    trainer.scaler().state(), stepsBefore + next, numerics), model, trainer);
        }
        listener.progress(0.98 * (stepsBefore + next) / Math.max(1, stepsOverall),
                stage + " step " + next + "/" + plan.totalSteps());
    }

    private void checkCancelled() {
        if (listener.isCancelled()) {
            throw new CancelledException("fusion cancelled; checkpoints in " + workDir + " allow a resume");
        }
    }
}
