package dev.amalgam.fusion.train;

import dev.amalgam.fusion.InvalidFusionSpecException;
import dev.amalgam.job.SpecReader;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;

/**
 * The reading and the checks of the trainer fields that both training specs carry (WRPO's {@code FusionSpec} and
 * FuseChat's {@code FuseChatSpec}): learning rate, batch shape, schedule, clipping, checkpoints, LoRA, output dtype,
 * device and step accounting. One place, so the two job kinds accept the same values and word their problems
 * alike, as {@code field: must ..., got value} (the form of {@link SpecReader}'s own problems).
 */
public final class TrainerFields {

    private static final Set<String> OUTPUT_DTYPES = Set.of("bf16", "fp16", "fp32");

    private TrainerFields() {
    }

    /**
     * Adds the problems of the shared fields' values to {@code p}.
     *
     * @param maxBatchSize largest micro-batch; {@code maxGradAccum} largest accumulation
     */
    public static void check(List<String> p, double lr, int batchSize, long maxBatchSize, int gradAccum,
            long maxGradAccum, double warmupRatio, double weightDecay, double maxGradNorm, int checkpointEvery,
            LoraSettings lora, String outputDtype, String device, StepAccounting stepAccounting) {
        positiveFinite(p, "lr", lr);
        between(p, "batchSize", batchSize, 1, maxBatchSize);
        between(p, "gradAccum", gradAccum, 1, maxGradAccum);
        if (!(warmupRatio >= 0 && warmupRatio < 1)) {
            p.add("warmupRatio: must be in [0, 1), got " + warmupRatio);
        }
        nonNegativeFinite(p, "weightDecay", weightDecay, "");
        nonNegativeFinite(p, "maxGradNorm", maxGradNorm, " (0 disables clipping)");
        if (checkpointEvery < 1) {
            p.add("checkpointEvery: must be > 0, got " + checkpointEvery);
        }
        if (lora != null) {
            p.addAll(lora.validate());
        }
        if (!OUTPUT_DTYPES.contains(outputDtype)) {
            p.add("outputDtype: must be bf16, fp16 or fp32, got " + outputDtype);
        }
        if (device == null || !device.matches("auto|cpu|gpu(:\\d+)?|cuda(:\\d+)?")) {
            p.add("device: must be auto, cpu, gpu or gpu:N, got " + device);
        }
        if (stepAccounting == null) {
            p.add("stepAccounting: must be reference or all-batches");
        }
    }

    /** {@code min <= v <= max}; the message names the bound that was crossed. */
    public static void between(List<String> p, String field, long v, long min, long max) {
        if (v < min) {
            p.add(field + ": must be " + (min == 1 ? "> 0" : "at least " + min) + ", got " + v);
        } else if (v > max) {
            p.add(field + ": must be at most " + max + ", got " + v);
        }
    }

    /** A finite number above zero. */
    public static void positiveFinite(List<String> p, String field, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            p.add(field + ": must be a finite number > 0, got " + v);
        }
    }

    /** A finite number, zero or more; {@code note} is appended to the rule (e.g. what 0 means). */
    public static void nonNegativeFinite(List<String> p, String field, double v, String note) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            p.add(field + ": must be a finite number >= 0" + note + ", got " + v);
        }
    }

    /** The step accounting named by {@code stepAccounting}, or {@code fallback} (a bad name is a problem). */
    public static StepAccounting stepAccounting(SpecReader r, StepAccounting fallback) {
        String id = r.string("stepAccounting");
        if (id == null) {
            return fallback;
        }
        try {
            return StepAccounting.fromId(id);
        } catch (IllegalArgumentException e) {
            r.problem("stepAccounting", e.getMessage());
            return fallback;
        }
    }

    /**
     * The {@code lora} object (absent fields: {@link LoraSettings#defaults()}), or null for full fine-tuning.
     * {@code targetModules} is a list of names or one comma-separated string.
     */
    public static LoraSettings lora(SpecReader r) {
        SpecReader l = r.object("lora");
        if (l == null) {
            return null;
        }
        LoraSettings d = LoraSettings.defaults();
        Integer rank = l.anyInt("rank");
        Double alpha = l.anyNumber("alpha");
        List<String> modules = l.raw("targetModules") != null && l.raw("targetModules").isString()
                ? List.of(l.raw("targetModules").stringValue().split("\\s*,\\s*"))
                : l.strings("targetModules");
        return new LoraSettings(rank == null ? d.rank() : rank, alpha == null ? d.alpha() : alpha,
                modules == null ? d.targetModules() : modules);
    }

    /**
     * Parses a training spec with {@code read}; unknown fields, wrong types and invalid values all reported together
     * in one {@link InvalidFusionSpecException}.
     *
     * @param what the spec's name in the message for a body that is not an object ("a fusion spec")
     */
    public static <T> T parse(JsonNode json, String what, Function<SpecReader, T> read) {
        if (json == null || !json.isObject()) {
            throw new InvalidFusionSpecException(List.of(what + " must be a JSON object"));
        }
        SpecReader r = SpecReader.of(json);
        T spec = read.apply(r);
        r.finish();
        if (!r.problems().isEmpty()) {
            throw new InvalidFusionSpecException(r.problems().stream().distinct().toList());
        }
        return spec;
    }

    /** An integer field (wrong types are the reader's problems), or {@code fallback} when absent. */
    public static int integer(SpecReader r, String field, int fallback) {
        Integer v = r.anyInt(field);
        return v == null ? fallback : v;
    }

    /** A number field (wrong types are the reader's problems), or {@code fallback} when absent. */
    public static double number(SpecReader r, String field, double fallback) {
        Double v = r.anyNumber(field);
        return v == null ? fallback : v;
    }
}
