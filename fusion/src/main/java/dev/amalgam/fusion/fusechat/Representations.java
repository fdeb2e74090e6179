package dev.amalgam.fusion.fusechat;

import dev.amalgam.fusion.fusechat.align.TopK;

import java.util.ArrayList;
import java.util.List;

/**
 * Step 1 of FuseChat on one model's logits for one sample: the per-position top-k kept for alignment and the
 * cross-entropy metrics the fusion functions rank by. Labels are unshifted causal-LM labels (-100 = not learned).
 */
public final class Representations {

    /** The authors keep the 10 largest logits per position. */
    public static final int DEFAULT_TOP_K = 10;

    private Representations() {
    }

    /**
     * The k largest of the first {@code vocabSize} logits (vocabSize = len(tokenizer): rows beyond it have no
     * token string), in descending order, the lower id first on equal logits.
     */
    public static TopK topK(float[] logits, int k, int vocabSize) {
        if (k <= 0 || vocabSize <= 0 || vocabSize > logits.length || k > vocabSize) {
            throw new IllegalArgumentException("need 0 < k <= vocabSize <= logits (k " + k + ", vocabSize "
                    + vocabSize + ", logits " + logits.length + ")");
        }
        int[] ids = new int[k];
        float[] values = new float[k];
        int n = 0;
        for (int v = 0; v < vocabSize; v++) {
            float z = logits[v];
            if (Float.isNaN(z)) {
                throw new IllegalArgumentException("logit of id " + v + " is NaN");
            }
            if (n == k && z <= values[k - 1]) {
                continue; // not larger than the current k-th: an earlier id keeps its place on a tie
            }
            int at = n < k ? n++ : k - 1;
            while (at > 0 && values[at - 1] < z) {
                values[at] = values[at - 1];
                ids[at] = ids[at - 1];
                at--;
            }
            values[at] = z;
            ids[at] = v;
        }
        return new TopK(ids, values);
    }

    /** The top-k of every position of logits [T][V]. */
    public static List<TopK> topK(float[][] logits, int k, int vocabSize) {
        List<TopK> out = new ArrayList<>(logits.length);
        for (float[] row : logits) {
            out.add(topK(row, k, vocabSize));
        }
        return out;
    }

    /**
     * Per-position CE: entry t = -log softmax(z_t)[labels[t+1]] where labels[t+1] is learned, 0 elsewhere and at
     * the last position.
     */
    public static double[] tokenCe(float[][] logits, int[] labels) {
        if (labels.length != logits.length) {
            throw new IllegalArgumentException("logits have " + logits.length + " positions, labels " + labels.length);
        }
        double[] ce = new double[logits.length];
        for (int t = 0; t + 1 < logits.length; t++) {
            int y = labels[t + 1];
            if (y == FuseChatObjective.IGNORE_INDEX) {
                continue;
            }
            if (y < 0 || y >= logits[t].length) {
                throw new IllegalArgumentException("label " + y + " at position " + (t + 1) + " is outside [0, "
                        + logits[t].length + ")");
            }
            ce[t] = FuseChatObjective.logSumExp(logits[t]) - logits[t][y];
        }
        return ce;
    }

    /**
     * metric_ce: the mean of {@link #tokenCe} over the positions whose next label is learned; NaN when there is
     * none (the authors then drop the sample).
     */
    public static double metricCe(float[][] logits, int[] labels) {
        double[] ce = tokenCe(logits, labels);
        double sum = 0;
        int n = 0;
        for (int t = 0; t + 1 < labels.length; t++) {
            if (labels[t + 1] != FuseChatObjective.IGNORE_INDEX) {
                sum += ce[t];
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
