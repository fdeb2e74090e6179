package dev.amalgam.fusion.fusechat.train;

import dev.amalgam.fusion.FusionSpec;
import dev.amalgam.fusion.fusechat.FuseLossType;
import dev.amalgam.fusion.fusechat.FusionFunction;
import dev.amalgam.fusion.fusechat.MetricLevel;
import dev.amalgam.fusion.train.LoraSettings;
import dev.amalgam.fusion.train.StepAccounting;
import dev.amalgam.fusion.train.TrainerFields;
import dev.amalgam.job.SpecReader;
import dev.amalgam.modelengine.LlamaConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One FuseChat stage-1 training run (pairwise knowledge fusion of one source into a copy of the pivot), with the
 * FuseChat authors' recipe as defaults: lr 5e-6, 3 epochs, effective batch 128 (4 x 32 here, one process), cosine
 * schedule with warmup 0.03, weight decay 0, 2048 tokens, lambda 0.9 fixed, MinCE at sequence level over the pivot's
 * own and the source's aligned distributions, cross-entropy, temperature 1.0, the "MS" vocabulary mapping.
 *
 * <pre>{@code
 * FuseChatSpec spec = FuseChatSpec.fromJson(json);   // throws InvalidFusionSpecException listing every problem
 * }</pre>
 *
 * @param epochs passes over the samples
 * @param lr peak learning rate
 * @param batchSize samples per micro-batch (one padded forward)
 * @param gradAccum micro-batches per optimizer step
 * @param maxLength tokens kept per sample (the start), at most the target's context
 * @param warmupRatio fraction of steps of linear warmup
 * @param weightDecay AdamW's decoupled weight decay
 * @param maxGradNorm global gradient-norm clip (0 disables)
 * @param lambda weight of the language-modelling term, {@code lambda * clm + (1 - lambda) * fuse}
 * @param lambdaSchedule {@code fixed}, or {@code rising}: linearly from lambda to 1 over the run
 * @param fusionFunction {@code min_ce} or {@code avg_ce}
 * @param metricLevel {@code sequence} (metric_ce) or {@code token} (per position)
 * @param distillLoss {@code ce} or {@code kl}
 * @param temperature the target softmax temperature T
 * @param includePivot whether the pivot's own distribution is a candidate (the authors' distill_with_ref_model)
 * @param vocabMapping {@code ms} (co-aligned pairs over the corpus) or {@code mined} (minimal edit distance)
 * @param seed data order and LoRA initialisation
 * @param checkpointEvery optimizer steps between checkpoints (the run also checkpoints at its end)
 * @param lora null for full fine-tuning
 * @param outputDtype bf16, fp16, fp32
 * @param device auto, cpu, gpu, gpu:N
 * @param stepAccounting reference or all-batches (see {@link StepAccounting})
 */
public record FuseChatSpec(int epochs, double lr, int batchSize, int gradAccum, int maxLength, double warmupRatio,
        double weightDecay, double maxGradNorm, double lambda, String lambdaSchedule, FusionFunction fusionFunction,
        MetricLevel metricLevel, FuseLossType distillLoss, double temperature, boolean includePivot,
        String vocabMapping, long seed, int checkpointEvery, LoraSettings lora, String outputDtype, String device,
        StepAccounting stepAccounting) {

    /** The authors' recipe (FuseChat 1.0 and 2.0 stage 1). */
    public static FuseChatSpec defaults() {
        return new FuseChatSpec(3, 5e-6, 4, 32, 2048, 0.03, 0.0, 1.0, 0.9, "fixed", FusionFunction.MIN_CE,
                MetricLevel.SEQUENCE, FuseLossType.CE, 1.0, true, "ms", 42, 100, null, "bf16", "auto",
                StepAccounting.REFERENCE);
    }

    /** Every problem with the values (empty when the spec can run), each as {@code field: must ..., got value}. */
    public List<String> validate() {
        List<String> p = new ArrayList<>();
        TrainerFields.between(p, "epochs", epochs, 1, FusionSpec.MAX_EPOCHS);
        TrainerFields.between(p, "maxLength", maxLength, 2, FusionSpec.MAX_LENGTH);
        if (!(lambda >= 0 && lambda <= 1)) {
            p.add("lambda: must be in [0, 1], got " + lambda);
        }
        if (!"fixed".equals(lambdaSchedule) && !"rising".equals(lambdaSchedule)) {
            p.add("lambdaSchedule: must be fixed or rising, got " + lambdaSchedule);
        }
        if (fusionFunction == null) {
            p.add("fusionFunction: must be min_ce or avg_ce");
        }
        if (metricLevel == null) {
            p.add("metricLevel: must be sequence or token");
        }
        if (distillLoss == null) {
            p.add("distillLoss: must be ce or kl");
        }
        TrainerFields.positiveFinite(p, "temperature", temperature);
        if (!"ms".equals(vocabMapping) && !"mined".equals(vocabMapping)) {
            p.add("vocabMapping: must be ms or mined, got " + vocabMapping);
        }
        TrainerFields.check(p, lr, batchSize, FusionSpec.MAX_BATCH_SIZE, gradAccum, FusionSpec.MAX_GRAD_ACCUM,
                warmupRatio, weightDecay, maxGradNorm, checkpointEvery, lora, outputDtype, device, stepAccounting);
        return p;
    }

    /** Problems of a valid spec on the target with {@code target} as its config.json. */
    public List<String> validateFor(LlamaConfig target) {
        List<String> p = new ArrayList<>();
        if (maxLength > target.maxPositionEmbeddings()) {
            p.add("maxLength " + maxLength + " exceeds the target's max_position_embeddings "
                    + target.maxPositionEmbeddings());
        }
        return p;
    }

    /** Parses a spec; absent fields take {@link #defaults()}; every problem in one exception. */
    public static FuseChatSpec fromJson(JsonNode json) {
        return TrainerFields.parse(json, "a FuseChat spec", FuseChatSpec::read);
    }

    /**
     * Reads the fields with {@code r} (absent: {@link #defaults()}); wrong types and invalid values go to the
     * reader's problems. Fields nobody reads are left to {@link SpecReader#finish()}.
     */
    public static FuseChatSpec read(SpecReader r) {
        FuseChatSpec d = defaults();
        FusionFunction function = d.fusionFunction();
        String functionId = r.string("fusionFunction");
        if (functionId != null) {
            function = switch (functionId.toLowerCase(Locale.ROOT)) {
                case "min_ce", "mince" -> FusionFunction.MIN_CE;
                case "avg_ce", "avgce" -> FusionFunction.AVG_CE;
                default -> {
                    r.problem("fusionFunction", "must be min_ce or avg_ce, got " + functionId);
                    yield d.fusionFunction();
                }
            };
        }
        MetricLevel level = d.metricLevel();
        String levelId = r.string("metricLevel");
        if (levelId != null) {
            level = switch (levelId.toLowerCase(Locale.ROOT)) {
                case "sequence" -> MetricLevel.SEQUENCE;
                case "token" -> MetricLevel.TOKEN;
                default -> {
                    r.problem("metricLevel", "must be sequence or token, got " + levelId);
                    yield d.metricLevel();
                }
            };
        }
        FuseLossType loss = d.distillLoss();
        String lossId = r.string("distillLoss");
        if (lossId != null) {
            loss = switch (lossId.toLowerCase(Locale.ROOT)) {
                case "ce" -> FuseLossType.CE;
                case "kl" -> FuseLossType.KL;
                default -> {
                    r.problem("distillLoss", "must be ce or kl, got " + lossId);
                    yield d.distillLoss();
                }
            };
        }
        StepAccounting accounting = TrainerFields.stepAccounting(r, d.stepAccounting());
        LoraSettings lora = TrainerFields.lora(r);
        FuseChatSpec spec = new FuseChatSpec(TrainerFields.integer(r, "epochs", d.epochs()), TrainerFields.number(r, "lr", d.lr()),
                TrainerFields.integer(r, "batchSize", d.batchSize()), TrainerFields.integer(r, "gradAccum", d.gradAccum()),
                TrainerFields.integer(r, "maxLength", d.maxLength()), TrainerFields.number(r, "warmupRatio", d.warmupRatio()),
                TrainerFields.number(r, "weightDecay", d.weightDecay()), TrainerFields.number(r, "maxGradNorm", d.maxGradNorm()),
                TrainerFields.number(r, "lambda", d.lambda()), r.string("lambdaSchedule", d.lambdaSchedule()), function, level, loss,
                TrainerFields.number(r, "temperature", d.temperature()), r.bool("includePivot", d.includePivot()),
                r.string("vocabMapping", d.vocabMapping()), r.longInteger("seed", d.seed()),
                TrainerFields.integer(r, "checkpointEvery", d.checkpointEvery()), lora, r.string("outputDtype", d.outputDtype()),
                r.string("device", d.device()), accounting);
        spec.validate().forEach(p -> r.problems().add(p));
        return spec;
    }

    /** The spec as JSON that {@link #fromJson} reads back to an equal spec. */
    public ObjectNode toJson() {
        ObjectNode o = JsonMapper.builder().build().createObjectNode();
        o.put("epochs", epochs);
        o.put("lr", lr);
        o.put("batchSize", batchSize);
        o.put("gradAccum", gradAccum);
        o.put("maxLength", maxLength);
        o.put("warmupRatio", warmupRatio);
        o.put("weightDecay", weightDecay);
        o.put("maxGradNorm", maxGradNorm);
        o.put("lambda", lambda);
        o.put("lambdaSchedule", lambdaSchedule);
        o.put("fusionFunction", fusionFunction == null ? null : fusionFunction.name().toLowerCase(Locale.ROOT));
        o.put("metricLevel", metricLevel == null ? null : metricLevel.name().toLowerCase(Locale.ROOT));
        o.put("distillLoss", distillLoss == null ? null : distillLoss.name().toLowerCase(Locale.ROOT));
        o.put("temperature", temperature);
        o.put("includePivot", includePivot);
        o.put("vocabMapping", vocabMapping);
        o.put("seed", seed);
        o.put("checkpointEvery", checkpointEvery);
        if (lora == null) {
            o.putNull("lora");
        } else {
            ObjectNode l = o.putObject("lora");
            l.put("rank", lora.rank());
            l.put("alpha", lora.alpha());
            ArrayNode t = l.putArray("targetModules");
            lora.targetModules().forEach(t::add);
        }
        o.put("outputDtype", outputDtype);
        o.put("device", device);
        o.put("stepAccounting", stepAccounting == null ? null : stepAccounting.id());
        return o;
    }
}
