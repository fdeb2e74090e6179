package dev.amalgam.fusion.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Which examples each optimizer step uses: every epoch shuffles the example indices with a generator seeded by
 * (seed, epoch) and cuts them into micro-batches of {@code batchSize} (the last one of an epoch may be smaller);
 * {@link StepAccounting} decides which micro-batches end a step. Pure function of its inputs, so a resumed job sees
 * the same batches as an uninterrupted one.
 *
 * <pre>{@code
 * BatchPlan plan = new BatchPlan(1000, 4, 8, 2, 42, StepAccounting.REFERENCE);
 * List<int[]> micro = plan.step(17); // 8 micro-batches of 4 indices
 * }</pre>
 */
public final class BatchPlan {

    private final int examples;
    private final int batchSize;
    private final int gradAccum;
    private final int epochs;
    private final long seed;
    private final StepAccounting accounting;
    private final long microPerEpoch;
    /** Step s covers the micro-batches [windowEnd[s-1], windowEnd[s]) of the stream of all epochs' micro-batches. */
    private final long[] windowEnd;
    private final long alphaSteps;
    private int cachedEpoch = -1;
    private int[] cachedOrder;

    public BatchPlan(int examples, int batchSize, int gradAccum, int epochs, long seed, StepAccounting accounting) {
        if (examples <= 0 || batchSize <= 0 || gradAccum <= 0 || epochs <= 0) {
            throw new IllegalArgumentException("examples, batch size, grad accumulation and epochs must be > 0");
        }
        this.examples = examples;
        this.batchSize = batchSize;
        this.gradAccum = gradAccum;
        this.epochs = epochs;
        this.seed = seed;
        this.accounting = accounting;
        this.microPerEpoch = (examples + batchSize - 1) / batchSize;
        List<Long> ends = new ArrayList<>();
        if (accounting == StepAccounting.REFERENCE) {
            // transformers 4.43: max_steps = ceil(epochs * max(M // GA, 1)); a step when the stream position is a
            // multiple of GA, or at an epoch's last micro-batch when the epoch has at most GA micro-batches.
            long maxSteps = epochs * Math.max(1, microPerEpoch / gradAccum);
            for (long t = 1; t <= epochs * microPerEpoch && ends.size() < maxSteps; t++) {
                boolean lastOfShortEpoch = microPerEpoch <= gradAccum && (t - 1) % microPerEpoch == microPerEpoch - 1;
                if (t % gradAccum == 0 || lastOfShortEpoch) {
                    ends.add(t);
                }
            }
            // the authors' alpha schedule: N = ceil(epochs * (M // GA)); their division fails when that is 0, where
            // this plan uses its step count instead
            long n = epochs * (microPerEpoch / gradAccum);
            this.windowEnd = toArray(ends);
            this.alphaSteps = n > 0 ? n : windowEnd.length;
        } else {
            for (int e = 0; e < epochs; e++) {
                for (long end = gradAccum; end < microPerEpoch + gradAccum; end += gradAccum) {
                    ends.add(e * microPerEpoch + Math.min(end, microPerEpoch));
                }
            }
            this.windowEnd = toArray(ends);
            this.alphaSteps = windowEnd.length;
        }
    }

    private static long[] toArray(List<Long> list) {
        return list.stream().mapToLong(Long::longValue).toArray();
    }

    public StepAccounting accounting() {
        return accounting;
    }

    /** Micro-batches of one epoch (the last may hold fewer than batchSize examples). */
    public long microBatchesPerEpoch() {
        return microPerEpoch;
    }

    /** Optimizer steps of the whole stage (what the learning-rate schedule spans). */
    public long totalSteps() {
        return windowEnd.length;
    }

    /** N of the WRPO alpha schedule (see {@link StepAccounting}). */
    public long alphaSteps() {
        return alphaSteps;
    }

    /** Micro-batches that make no optimizer step (reference accounting: those after the last window). */
    public long unusedMicroBatches() {
        return epochs * microPerEpoch - windowEnd[windowEnd.length - 1];
    }

    /** Epoch (fractional) reached after step {@code step} (0-based) completes: micro-batches done / per epoch. */
    public double epochAfter(long step) {
        return (double) windowEnd[(int) step] / microPerEpoch;
    }

    /** The micro-batches (example indices) of 0-based optimizer step {@code step}, in stream order. */
    public List<int[]> step(long step) {
        if (step < 0 || step >= totalSteps()) {
            throw new IllegalArgumentException("step " + step + " outside [0, " + totalSteps() + ")");
        }
        long from = step == 0 ? 0 : windowEnd[(int) step - 1];
        List<int[]> out = new ArrayList<>();
        for (long t = from; t < windowEnd[(int) step]; t++) {
            int epoch = (int) (t / microPerEpoch);
            long first = (t % microPerEpoch) * batchSize;
            int[] order = order(epoch);
            out.add(Arrays.copyOfRange(order, (int) first, (int) Math.min(examples, first + batchSize)));
        }
        return out;
    }

    /** Number of examples in step {@code step}. */
    public int stepExamples(long step) {
        return step(step).stream().mapToInt(a -> a.length).sum();
    }

    private int[] order(int epoch) {
        if (epoch != cachedEpoch) {
            int[] order = new int[examples];
            for (int i = 0; i < examples; i++) {
                order[i] = i;
            }
            Random r = new Random(seed * 1_000_003L + epoch);
            for (int i = examples - 1; i > 0; i--) { // Fisher-Yates
                int j = r.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            cachedOrder = order;
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }
}
