package dev.amalgam.fusion.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Which examples each optimizer step uses: every epoch shuffles the example indices with a generator seeded by
 * (seed, epoch), cuts them into micro-batches of {@code batchSize} and groups {@code gradAccum} micro-batches per
 * step (the last step of an epoch may be smaller). Pure function of its inputs, so a resumed job sees the same
 * batches as an uninterrupted one.
 *
 * <pre>{@code
 * BatchPlan plan = new BatchPlan(1000, 4, 8, 2, 42);
 * List<int[]> micro = plan.step(17); // 8 micro-batches of 4 indices
 * }</pre>
 */
public final class BatchPlan {

    private final int examples;
    private final int batchSize;
    private final int gradAccum;
    private final int epochs;
    private final long seed;
    private final long stepsPerEpoch;
    private int cachedEpoch = -1;
    private int[] cachedOrder;

    public BatchPlan(int examples, int batchSize, int gradAccum, int epochs, long seed) {
        if (examples <= 0 || batchSize <= 0 || gradAccum <= 0 || epochs <= 0) {
            throw new IllegalArgumentException("examples, batch size, grad accumulation and epochs must be > 0");
        }
        this.examples = examples;
        this.batchSize = batchSize;
        this.gradAccum = gradAccum;
        this.epochs = epochs;
        this.seed = seed;
        long microBatches = (examples + batchSize - 1) / batchSize;
        this.stepsPerEpoch = (microBatches + gradAccum - 1) / gradAccum;
    }

    public long stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** N: optimizer steps of the whole stage. */
    public long totalSteps() {
        return stepsPerEpoch * epochs;
    }

    /** Epoch (fractional) reached after step {@code step} (0-based) completes. */
    public double epochAfter(long step) {
        return (double) (step + 1) / stepsPerEpoch;
    }

    /** The micro-batches (example indices) of 0-based optimizer step {@code step}. */
    public List<int[]> step(long step) {
        if (step < 0 || step >= totalSteps()) {
            throw new IllegalArgumentException("step " + step + " outside [0, " + totalSteps() + ")");
        }
        int epoch = (int) (step / stepsPerEpoch);
        int[] order = order(epoch);
        long firstMicro = (step % stepsPerEpoch) * gradAccum;
        List<int[]> out = new ArrayList<>();
        for (long mb = firstMicro; mb < firstMicro + gradAccum; mb++) {
            long from = mb * batchSize;
            if (from >= examples) {
                break;
            }
            out.add(Arrays.copyOfRange(order, (int) from, (int) Math.min(examples, from + batchSize)));
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
