package dev.amalgam.fusion.fusechat.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.amalgam.fusion.FusionResult;
import dev.amalgam.fusion.FusionRunner;
import dev.amalgam.fusion.HfCheckpointWriter;
import dev.amalgam.fusion.InvalidFusionSpecException;
import dev.amalgam.fusion.fusechat.LambdaSchedule;
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
import dev.amalgam.job.CancelledException;
import dev.amalgam.job.Progress;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.UnsupportedModelException;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * FuseChat stage 1 for one source: trains a copy of the pivot on lambda * CLM + (1 - lambda) * fusion loss
 * against the fused pivot/source distributions ({@link FuseChatData}), with the fusion module's trainer (AdamW on
 * FP32 masters, cosine schedule with warmup, gradient accumulation, clipping, LoRA or full fine-tuning), checkpoints
 * every {@code checkpointEvery} steps into {@code workDir}, and saves the target as a Hugging Face checkpoint with
 * {@code fusion_report.json} in {@code outDir}. A call on a work directory with checkpoints resumes from the newest
 * one; on the CPU the result equals an uninterrupted run's.
 *
 * <pre>{@code
 * FusionResult r = FuseChatRunner.run(spec, pivotDir, sourceDir, pivotRepr, sourceRepr, workDir, outDir, progress);
 * }</pre>
 *
 * <p>Per step the metrics {@code fuse/loss}, {@code fuse/clm_loss}, {@code fuse/distill_loss}, {@code fuse/lambda},
 * {@code learning_rate}, {@code grad_norm} and {@code epoch} go to the listener (stage {@value #STAGE}) and to
 * {@code workDir/metrics.jsonl}.
 */
public final class FuseChatRunner {

    /** The stage name of the metrics and checkpoints. */
    public static final String STAGE = "fusechat";
    static final String REPORT = "fusion_report.json";

    private FuseChatRunner() {
    }

    /** Every problem of {@code spec} for the target, from its config.json alone (for a 422 before queueing). */
    public static List<String> validate(FuseChatSpec spec, Path targetModelDir) {
        List<String> problems = spec.validate();
        if (!problems.isEmpty()) {
            return problems;
        }
        try {
            return spec.validateFor(LlamaConfig.read(targetModelDir.resolve(HfModelDir.CONFIG_FILE)));
        } catch (UnsupportedModelException | UncheckedIOException e) {
            return List.of("target: " + e.getMessage());
        }
    }

    /**
     * @param targetModelDir the pivot: the target's initialisation and the model {@code pivotRepr} was computed with
     * @param sourceModelDir the source (its tokenizer is read; its weights are not loaded)
     * @param pivotRepr the pivot's representation dataset of the corpus
     * @param sourceRepr the source's representation dataset of the same corpus
     * @param workDir persistent across attempts: checkpoints, metrics log, the pinned spec
     * @param outDir receives the trained checkpoint and the report
     */
    public static FusionResult run(FuseChatSpec spec, Path targetModelDir, Path sourceModelDir, Path pivotRepr,
                                   Path sourceRepr, Path workDir, Path outDir, Progress listener) {
        List<String> problems = validate(spec, targetModelDir);
        if (!problems.isEmpty()) {
            throw new InvalidFusionSpecException(problems);
        }
        long started = System.nanoTime();
        try {
            Files.createDirectories(workDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + workDir, e);
        }
        pinSpec(spec, workDir);
        // optimizer updates write parameters in place: autograd must be off outside the gradient collector
        DjlRuntime.disableGradientsOnThisThread();
        listener.progress(0.0, "aligning the source's representations to the pivot");
        FuseChatData.Built data = FuseChatData.build(targetModelDir, pivotRepr, sourceModelDir, sourceRepr,
                FuseChatData.Settings.of(spec), new Progress() {
                    @Override
                    public void progress(double fraction, String message) {
                        listener.progress(0.0, message); // training steps make the job's fraction
                    }

                    @Override
                    public boolean isCancelled() {
                        return listener.isCancelled();
                    }
                });
        if (data.examples().isEmpty()) {
            throw new IllegalArgumentException("no sample to train on: of " + data.samples() + ", "
                    + data.droppedNoMetric() + " have no metric_ce and " + data.droppedNoLearnedToken()
                    + " no learned token within maxLength " + spec.maxLength());
        }
        String readMessage = data.examples().size() + " samples to train on (" + data.droppedNoMetric()
                + " dropped without metric_ce, " + data.droppedNoLearnedToken() + " without a learned token)";
        EngineOptions options = FusionRunner.engineOptions(spec.device());
        String numerics = FusionRunner.numerics(options);
        CheckpointStore store = new CheckpointStore(workDir);
        BatchPlan plan = new BatchPlan(data.examples().size(), spec.batchSize(), spec.gradAccum(), spec.epochs(),
                spec.seed(), spec.stepAccounting());
        LambdaSchedule lambdas = "rising".equals(spec.lambdaSchedule())
                ? LambdaSchedule.rising(spec.lambda(), plan.totalSteps()) : LambdaSchedule.fixed(spec.lambda());
        FuseChatDistill objective = new FuseChatDistill(data.examples(), spec.distillLoss());
        Map<String, Double> last = new LinkedHashMap<>();
        Optional<Path> latest = store.latest();
        try (TrainableModel model = trainable(spec, CheckpointLoader.load(targetModelDir, options));
                NDManager optimizerManager = model.base().manager().newSubManager()) {
            LossScaler scaler = model.base().options().computeType() == DataType.FLOAT16 ? LossScaler.dynamic()
                    : LossScaler.none();
            Trainer trainer = new Trainer(model, new AdamW(optimizerManager, 0.9, 0.999, 1e-8, spec.weightDecay()),
                    CosineSchedule.withWarmupRatio(spec.lr(), plan.totalSteps(), spec.warmupRatio()),
                    spec.maxGradNorm(), scaler);
            long first = 0;
            if (latest.isPresent()) {
                CheckpointStore.State s = CheckpointStore.readState(latest.get());
                CheckpointStore.restoreParameters(latest.get(), model);
                first = Math.min(s.nextStep(), plan.totalSteps());
                if (first < plan.totalSteps()) {
                    CheckpointStore.restoreOptimizer(latest.get(), trainer);
                }
                listener.progress(0.98 * first / plan.totalSteps(), readMessage + "; resuming from "
                        + latest.get().getFileName());
                if (!s.numerics().isEmpty() && !s.numerics().equals(numerics)) {
                    listener.progress(0.98 * first / plan.totalSteps(), "the checkpoint was computed with "
                            + s.numerics() + ", this attempt runs with " + numerics
                            + ": the result will not be bit-identical to an uninterrupted run");
                }
            } else {
                listener.progress(0.0, readMessage);
            }
            for (long step = first; step < plan.totalSteps(); step++) {
                if (listener.isCancelled()) {
                    throw new CancelledException("fusion cancelled; checkpoints in " + workDir + " allow a resume");
                }
                double lambda = lambdas.lambda(step);
                List<int[]> micro = plan.step(step);
                objective.prepare(micro, lambda);
                StepStats stats = trainer.step(step, micro, objective);
                last = new LinkedHashMap<>();
                last.put("fuse/loss", stats.loss());
                last.put("fuse/clm_loss", objective.clmLoss());
                last.put("fuse/distill_loss", objective.distillLoss());
                last.put("fuse/lambda", lambda);
                last.put("learning_rate", stats.learningRate());
                last.put("grad_norm", stats.gradNorm());
                last.put("epoch", plan.epochAfter(step));
                listener.metrics(STAGE, step + 1, last);
                log(workDir, step + 1, last);
                long next = step + 1;
                if (next % spec.checkpointEvery() == 0 || next == plan.totalSteps()) {
                    store.save(new CheckpointStore.State(0, STAGE, next, trainer.appliedUpdates(),
                            trainer.scaler().state(), next, numerics), model, trainer);
                }
                listener.progress(0.98 * next / plan.totalSteps(), STAGE + " step " + next + "/" + plan.totalSteps());
            }
            listener.progress(0.99, "saving the trained model");
            HfCheckpointWriter.write(model, targetModelDir, outDir, HfCheckpointWriter.dtype(spec.outputDtype()));
            Map<String, Double> finalMetrics = new LinkedHashMap<>();
            last.forEach((k, v) -> finalMetrics.put(STAGE + "/" + k, v));
            Path report = writeReport(outDir, spec, data, plan, finalMetrics, latest.orElse(null), options,
                    (System.nanoTime() - started) / 1e9);
            listener.progress(1.0, "done");
            return new FusionResult(outDir, report, Map.of(STAGE, plan.totalSteps()), finalMetrics,
                    latest.orElse(null));
        }
    }

    private static TrainableModel trainable(FuseChatSpec spec, LlamaModel loaded) {
        try {
            return spec.lora() == null ? new FullFineTune(loaded) : new LoraModel(loaded, spec.lora(), spec.seed());
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
    }

    /** The first attempt records its spec; a later attempt on the same work dir must bring the same one. */
    static void pinSpec(FuseChatSpec spec, Path workDir) {
        Path file = workDir.resolve("spec.json");
        if (Files.isRegularFile(file)) {
            tools.jackson.databind.JsonNode pinned = Json.read(file);
            if (!"fusechat".equals(pinned.path("method").asString(""))
                    || !FuseChatSpec.fromJson(pinned.path("fusechat")).equals(spec)) {
                throw new IllegalStateException(workDir + " holds checkpoints of a job with another spec (" + file
                        + "); use a fresh work directory");
            }
        } else {
            ObjectNode o = Json.object();
            o.put("method", "fusechat");
            o.set("fusechat", spec.toJson());
            Json.write(file, o);
        }
    }

    private static void log(Path workDir, long step, Map<String, Double> values) {
        ObjectNode line = Json.object();
        line.put("stage", STAGE);
        line.put("step", step);
        ObjectNode m = line.putObject("metrics");
        values.forEach(m::put);
        try {
            Files.writeString(workDir.resolve("metrics.jsonl"), Json.toCompactString(line) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + workDir.resolve("metrics.jsonl"), e);
        }
    }

    private static Path writeReport(Path outDir, FuseChatSpec spec, FuseChatData.Built data, BatchPlan plan,
                                    Map<String, Double> finalMetrics, Path resumedFrom, EngineOptions options,
                                    double seconds) {
        ObjectNode r = Json.object();
        r.put("method", "fusechat");
        r.set("spec", spec.toJson());
        ObjectNode d = r.putObject("data");
        data.summary().forEach((k, v) -> d.put(k, String.valueOf(v)));
        d.put("microBatchesWithoutStep", plan.unusedMicroBatches());
        r.putObject("steps").put(STAGE, plan.totalSteps());
        ObjectNode m = r.putObject("finalMetrics");
        finalMetrics.forEach(m::put);
        r.put("resumedFrom", resumedFrom == null ? null : resumedFrom.getFileName().toString());
        r.put("device", options.device().toString());
        r.put("seconds", seconds);
        Path file = outDir.resolve(REPORT);
        Json.write(file, r);
        return file;
    }
}
