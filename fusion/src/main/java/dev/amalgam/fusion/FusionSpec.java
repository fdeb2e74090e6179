package dev.amalgam.fusion;

import dev.amalgam.job.SpecReader;
import dev.amalgam.fusion.data.Tokenization;
import dev.amalgam.fusion.loss.LossType;
import dev.amalgam.fusion.loss.PreferenceLosses.BaselineChosen;
import dev.amalgam.fusion.train.LoraSettings;
import dev.amalgam.fusion.train.TrainerFields;
import dev.amalgam.fusion.train.StepAccounting;
import dev.amalgam.modelengine.LlamaConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One fusion job: which stages run and every hyper-parameter, with the WRPO paper's values as defaults (8B target:
 * beta 0.01, alpha_end 0.1, lr 3e-7, effective batch 128, 1 epoch, max length 2048 with the prompt cut to 1800,
 * cosine schedule with warmup 0.1; SFT stage lr 7e-6, 1 epoch).
 *
 * <pre>{@code
 * FusionSpec spec = FusionSpec.fromJson(json);        // throws InvalidFusionSpecException listing every problem
 * FusionSpec small = FusionSpec.defaults().withLr(1e-3);
 * }</pre>
 *
 * @param stages {@code sft} and/or {@code wrpo} (the preference stage; its loss is {@link #loss}), in that order
 * @param loss preference loss: wrpo, dpo, dpo_multi, ipo, simpo
 * @param epochs passes over the preference records
 * @param lr peak learning rate of the preference stage
 * @param sftEpochs passes over the SFT records
 * @param sftLr peak learning rate of the SFT stage
 * @param beta KL coefficient (for simpo the reward scale)
 * @param alphaEnd final (linear) or constant (fixed) WRPO alpha
 * @param alphaSchedule {@code linear} (progressive adaptation) or {@code fixed} (the ablation)
 * @param simpoGamma SimPO's target margin
 * @param labelSmoothing TRL's label smoothing of the sigmoid losses (all but ipo), in [0, 0.5); 0 = none
 * @param baselineChosen for dpo/ipo/simpo: compare y_wt ({@code target}) or y_ws ({@code source}) with y_l
 * @param batchSize records per micro-batch (one padded forward)
 * @param gradAccum micro-batches per optimizer step
 * @param maxLength longest prompt plus response, in tokens
 * @param maxPromptLength prompt tokens kept (from the end) when a record is too long
 * @param warmupRatio fraction of steps of linear warmup
 * @param weightDecay AdamW's decoupled weight decay
 * @param maxGradNorm global gradient-norm clip (0 disables)
 * @param seed data order and LoRA initialisation
 * @param checkpointEvery optimizer steps between checkpoints (each stage also checkpoints at its end)
 * @param evalEvery optimizer steps between evaluations (0: only at the end of the preference stage)
 * @param lora null for full fine-tuning, else LoRA settings (merged into the weights on save)
 * @param outputDtype dtype of the saved checkpoint: bf16, fp16, fp32
 * @param device {@code auto} (GPU when present), {@code cpu}, {@code gpu}, {@code gpu:N}; GPU computes in FP16
 * @param tokenization how records become tokens: {@code auto} (default), {@code reference}, {@code amalgam}
 * @param stepAccounting which micro-batches make optimizer steps: {@code reference} (default) or {@code all-batches}
 */
public record FusionSpec(List<String> stages, LossType loss, int epochs, double lr, int sftEpochs, double sftLr,
        double beta, double alphaEnd, String alphaSchedule, double simpoGamma, double labelSmoothing,
        BaselineChosen baselineChosen, int batchSize, int gradAccum, int maxLength, int maxPromptLength,
        double warmupRatio, double weightDecay, double maxGradNorm, long seed, int checkpointEvery, int evalEvery,
        LoraSettings lora, String outputDtype, String device, Tokenization tokenization, StepAccounting stepAccounting) {

    /** Stage names. */
    public static final String SFT = "sft";
    public static final String WRPO = "wrpo";

    /**
     * Upper bounds of the fields that size the work (far beyond the paper's settings: 1 epoch, 2 x 64 records per
     * step, 2048 tokens); the target's {@code max_position_embeddings} bounds {@code maxLength} further.
     */
    public static final int MAX_EPOCHS = 100;
    public static final int MAX_BATCH_SIZE = 1024;
    public static final int MAX_GRAD_ACCUM = 1024;
    public static final int MAX_LENGTH = 131_072;

    public FusionSpec {
        stages = List.copyOf(stages);
    }

    /** The reference hyper-parameters, both stages, full fine-tuning, BF16 output. */
    public static FusionSpec defaults() {
        return new FusionSpec(List.of(SFT, WRPO), LossType.WRPO, 1, 3e-7, 1, 7e-6, 0.01, 0.1, "linear", 0.5,
                0.0, BaselineChosen.TARGET, 2, 64, 2048, 1800, 0.1, 0.0, 1.0, 42, 100, 0, null, "bf16", "auto",
                Tokenization.AUTO, StepAccounting.REFERENCE);
    }

    /** Every problem with the values (empty when the spec can run), each as {@code field: must ..., got value}. */
    public List<String> validate() {
        List<String> p = new ArrayList<>();
        if (stages.isEmpty()) {
            p.add("stages: must name at least one of sft, wrpo");
        }
        for (String s : stages) {
            if (!s.equals(SFT) && !s.equals(WRPO)) {
                p.add("stages: unknown stage '" + s + "' (known: sft, wrpo)");
            }
        }
        if (stages.size() != stages.stream().distinct().count()) {
            p.add("stages: must not repeat a stage");
        }
        if (stages.contains(SFT) && stages.contains(WRPO) && stages.indexOf(SFT) > stages.indexOf(WRPO)) {
            p.add("stages: sft must come before wrpo");
        }
        if (loss == null) {
            p.add("loss: is required (" + LossType.known() + ")");
        }
        TrainerFields.between(p, "epochs", epochs, 1, MAX_EPOCHS);
        TrainerFields.between(p, "sftEpochs", sftEpochs, 1, MAX_EPOCHS);
        TrainerFields.positiveFinite(p, "sftLr", sftLr);
        TrainerFields.positiveFinite(p, "beta", beta);
        if (!(alphaEnd >= 0 && alphaEnd <= 1)) {
            p.add("alphaEnd: must be in [0, 1], got " + alphaEnd);
        }
        if (!"linear".equals(alphaSchedule) && !"fixed".equals(alphaSchedule)) {
            p.add("alphaSchedule: must be linear or fixed, got " + alphaSchedule);
        }
        TrainerFields.nonNegativeFinite(p, "simpoGamma", simpoGamma, "");
        if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) { // at 0.5 neither response is preferred
            p.add("labelSmoothing: must be in [0, 0.5), got " + labelSmoothing);
        } else if (labelSmoothing > 0 && loss == LossType.IPO) { // a squared loss: TRL ignores the smoothing
            p.add("labelSmoothing: must be 0 with loss " + loss.id() + " (it has no label smoothing), got "
                    + labelSmoothing);
        }
        if (baselineChosen == null) {
            p.add("baselineChosen: must be target or source");
        }
        TrainerFields.between(p, "maxLength", maxLength, 1, MAX_LENGTH);
        TrainerFields.between(p, "maxPromptLength", maxPromptLength, 1, Long.MAX_VALUE);
        if (maxPromptLength >= maxLength) {
            p.add("maxPromptLength: must be below maxLength (" + maxLength + "), got " + maxPromptLength);
        }
        if (evalEvery < 0) {
            p.add("evalEvery: must be >= 0, got " + evalEvery);
        }
        if (tokenization == null) {
            p.add("tokenization: must be auto, reference or amalgam");
        }
        TrainerFields.check(p, lr, batchSize, MAX_BATCH_SIZE, gradAccum, MAX_GRAD_ACCUM, warmupRatio, weightDecay,
                maxGradNorm, checkpointEvery, lora, outputDtype, device, stepAccounting);
        return p;
    }

    /**
     * Problems of a valid spec on the target model with {@code target} as its config.json: every record must fit its
     * positions. The service checks this before queueing, the runner again before it reads the data.
     */
    public List<String> validateFor(LlamaConfig target) {
        List<String> p = new ArrayList<>();
        if (maxLength > target.maxPositionEmbeddings()) {
            p.add("maxLength " + maxLength + " exceeds the target's max_position_embeddings "
                    + target.maxPositionEmbeddings());
        }
        return p;
    }

    /** Whether the spec runs stage {@code name}. */
    public boolean runs(String name) {
        return stages.contains(name);
    }

    /**
     * Parses a spec; absent fields take {@link #defaults()}. Unknown fields, wrong types and invalid values are all
     * reported together in one {@link InvalidFusionSpecException}.
     */
    public static FusionSpec fromJson(JsonNode json) {
        return TrainerFields.parse(json, "a fusion spec", FusionSpec::read);
    }

    /**
     * Reads the spec's fields with {@code r}; absent fields take {@link #defaults()}. Wrong types and invalid values
     * ({@link #validate()}) are added to the reader's problems; fields nobody reads are left to the reader's
     * {@link SpecReader#finish()}.
     */
    public static FusionSpec read(SpecReader r) {
        FusionSpec d = defaults();
        List<String> stages = stringList(r, "stages", d.stages());
        LossType loss = d.loss();
        String lossId = r.string("loss");
        if (lossId != null) {
            try {
                loss = LossType.fromId(lossId.toLowerCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                r.problem("loss", e.getMessage());
            }
        }
        BaselineChosen chosen = d.baselineChosen();
        String chosenText = r.string("baselineChosen", "target");
        if ("source".equals(chosenText) || "target".equals(chosenText)) {
            chosen = BaselineChosen.valueOf(chosenText.toUpperCase(Locale.ROOT));
        } else if (chosenText != null) {
            r.problem("baselineChosen", "must be target or source, got " + chosenText);
        }
        Tokenization tokenization = d.tokenization();
        String tokenizationId = r.string("tokenization");
        if (tokenizationId != null) {
            try {
                tokenization = Tokenization.fromId(tokenizationId);
            } catch (IllegalArgumentException e) {
                r.problem("tokenization", e.getMessage());
            }
        }
        StepAccounting accounting = TrainerFields.stepAccounting(r, d.stepAccounting());
        LoraSettings lora = TrainerFields.lora(r);
        FusionSpec spec = new FusionSpec(stages, loss, TrainerFields.integer(r, "epochs", d.epochs()), TrainerFields.number(r, "lr", d.lr()),
                TrainerFields.integer(r, "sftEpochs", d.sftEpochs()), TrainerFields.number(r, "sftLr", d.sftLr()), TrainerFields.number(r, "beta", d.beta()),
                TrainerFields.number(r, "alphaEnd", d.alphaEnd()), r.string("alphaSchedule", d.alphaSchedule()),
                TrainerFields.number(r, "simpoGamma", d.simpoGamma()), TrainerFields.number(r, "labelSmoothing", d.labelSmoothing()), chosen,
                TrainerFields.integer(r, "batchSize", d.batchSize()), TrainerFields.integer(r, "gradAccum", d.gradAccum()),
                TrainerFields.integer(r, "maxLength", d.maxLength()), TrainerFields.integer(r, "maxPromptLength", d.maxPromptLength()),
                TrainerFields.number(r, "warmupRatio", d.warmupRatio()),
                TrainerFields.number(r, "weightDecay", d.weightDecay()), TrainerFields.number(r, "maxGradNorm", d.maxGradNorm()),
                r.longInteger("seed", d.seed()), TrainerFields.integer(r, "checkpointEvery", d.checkpointEvery()),
                TrainerFields.integer(r, "evalEvery", d.evalEvery()), lora, r.string("outputDtype", d.outputDtype()),
                r.string("device", d.device()), tokenization, accounting);
        spec.validate().forEach(p -> r.problems().add(p));
        return spec;
    }

    /** A list of strings, or one comma-separated string ("sft,wrpo", as on the command line). */
    private static List<String> stringList(SpecReader r, String field, List<String> fallback) {
        JsonNode raw = r.raw(field);
        if (raw == null) {
            return fallback;
        }
        if (raw.isString()) {
            return List.of(raw.stringValue().split("\\s*,\\s*"));
        }
        List<String> list = r.strings(field);
        return list == null ? fallback : list;
    }

    /**
     * A spec from command-line flags such as {@code ./amalgam fuse}'s: kebab-case names map to the JSON fields
     * ({@code --alpha-end 0.2} -> {@code alphaEnd}, {@code --stages sft,wrpo}); values that parse as numbers are
     * numbers. Everything else goes through {@link #fromJson}, so problems are reported the same way.
     *
     * @param base fields the flags override (e.g. a spec file's JSON), or null for the defaults
     */
    public static FusionSpec fromFlags(JsonNode base, Map<String, String> flags) {
        ObjectNode o = base != null && base.isObject() ? ((ObjectNode) base).deepCopy()
                : JsonMapper.builder().build().createObjectNode();
        flags.forEach((flag, value) -> {
            StringBuilder name = new StringBuilder();
            boolean upper = false;
            for (char c : flag.replaceFirst("^--", "").toCharArray()) {
                if (c == '-') {
                    upper = true;
                } else {
                    name.append(upper ? Character.toUpperCase(c) : c);
                    upper = false;
                }
            }
            String key = name.toString();
            if (value.matches("-?\\d+")) {
                // a BigInteger, so that a number beyond the long range is a problem of its field, not a crash here
                o.put(key, new java.math.BigInteger(value));
            } else if (value.matches("-?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?")) {
                o.put(key, Double.parseDouble(value));
            } else {
                o.put(key, value);
            }
        });
        return fromJson(o);
    }

    /** The spec as JSON that {@link #fromJson} reads back to an equal spec (every field written). */
    public ObjectNode toJson() {
        ObjectNode o = JsonMapper.builder().build().createObjectNode();
        ArrayNode st = o.putArray("stages");
        stages.forEach(st::add);
        o.put("loss", loss == null ? null : loss.id());
        o.put("epochs", epochs);
        o.put("lr", lr);
        o.put("sftEpochs", sftEpochs);
        o.put("sftLr", sftLr);
        o.put("beta", beta);
        o.put("alphaEnd", alphaEnd);
        o.put("alphaSchedule", alphaSchedule);
        o.put("simpoGamma", simpoGamma);
        o.put("labelSmoothing", labelSmoothing);
        o.put("baselineChosen", baselineChosen == null ? null : baselineChosen.name().toLowerCase(Locale.ROOT));
        o.put("batchSize", batchSize);
        o.put("gradAccum", gradAccum);
        o.put("maxLength", maxLength);
        o.put("maxPromptLength", maxPromptLength);
        o.put("warmupRatio", warmupRatio);
        o.put("weightDecay", weightDecay);
        o.put("maxGradNorm", maxGradNorm);
        o.put("seed", seed);
        o.put("checkpointEvery", checkpointEvery);
        o.put("evalEvery", evalEvery);
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
        o.put("tokenization", tokenization == null ? null : tokenization.id());
        o.put("stepAccounting", stepAccounting == null ? null : stepAccounting.id());
        return o;
    }
}
