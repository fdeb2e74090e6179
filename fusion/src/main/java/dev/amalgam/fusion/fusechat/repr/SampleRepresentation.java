package dev.amalgam.fusion.fusechat.repr;

import dev.amalgam.fusion.fusechat.align.TopK;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Step 1 of FuseChat for one sample and one model: its tokens and labels, the k largest logits at every position
 * (they predict the next token) and metric_ce. A slot with id {@link #NO_TOKEN} is unused (a position with fewer
 * than k entries, e.g. the last one of an imported sample); used slots come first, in descending logit order.
 *
 * @param id the sample's id
 * @param inputIds the model's token ids
 * @param labels unshifted causal-LM labels (-100 = not learned)
 * @param metricCe the mean CE of the learned next tokens; NaN when none is learned
 * @param k slots per position
 * @param topIds [length * k] row-major: position t's slots at {@code t * k .. t * k + k - 1}
 * @param topLogits [length * k], the logit (or log-prob) of each slot
 */
public record SampleRepresentation(String id, int[] inputIds, int[] labels, double metricCe, int k, int[] topIds,
                                   float[] topLogits) {

    /** The id of an unused slot. */
    public static final int NO_TOKEN = -1;

    public SampleRepresentation {
        new TokenizedSample(id, inputIds, labels); // same checks
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        if (topIds.length != (long) inputIds.length * k || topLogits.length != topIds.length) {
            throw new IllegalArgumentException("sample " + id + ": " + inputIds.length + " positions with k " + k
                    + " need " + inputIds.length * k + " slots, got " + topIds.length + " ids and "
                    + topLogits.length + " logits");
        }
        inputIds = inputIds.clone();
        labels = labels.clone();
        topIds = topIds.clone();
        topLogits = topLogits.clone();
    }

    /** Builds one from per-position top-k (each at most k entries). */
    public static SampleRepresentation of(TokenizedSample tokens, double metricCe, int k, List<TopK> topK) {
        int n = tokens.length();
        if (topK.size() != n) {
            throw new IllegalArgumentException("sample " + tokens.id() + " has " + n + " positions but " + topK.size()
                    + " top-k rows");
        }
        int[] ids = new int[n * k];
        float[] logits = new float[n * k];
        Arrays.fill(ids, NO_TOKEN);
        Arrays.fill(logits, Float.NEGATIVE_INFINITY);
        for (int t = 0; t < n; t++) {
            TopK row = topK.get(t);
            if (row.size() > k) {
                throw new IllegalArgumentException("sample " + tokens.id() + " position " + t + " has " + row.size()
                        + " entries, more than k " + k);
            }
            for (int j = 0; j < row.size(); j++) {
                ids[t * k + j] = row.id(j);
                logits[t * k + j] = row.logit(j);
            }
        }
        return new SampleRepresentation(tokens.id(), tokens.inputIds(), tokens.labels(), metricCe, k, ids, logits);
    }

    public int length() {
        return inputIds.length;
    }

    /** The used slots of position t, as the alignment takes them. */
    public TopK topK(int t) {
        if (t < 0 || t >= inputIds.length) {
            throw new IndexOutOfBoundsException("position " + t + " of " + inputIds.length);
        }
        int used = 0;
        while (used < k && topIds[t * k + used] != NO_TOKEN) {
            used++;
        }
        return new TopK(Arrays.copyOfRange(topIds, t * k, t * k + used),
                Arrays.copyOfRange(topLogits, t * k, t * k + used));
    }

    /** Every position's {@link #topK(int)}. */
    public List<TopK> topK() {
        List<TopK> out = new ArrayList<>(inputIds.length);
        for (int t = 0; t < inputIds.length; t++) {
            out.add(topK(t));
        }
        return out;
    }

    @Override
    public int[] inputIds() {
        return inputIds.clone();
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    @Override
    public int[] topIds() {
        return topIds.clone();
    }

    @Override
    public float[] topLogits() {
        return topLogits.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SampleRepresentation s && id.equals(s.id) && k == s.k
                && Double.compare(metricCe, s.metricCe) == 0 && Arrays.equals(inputIds, s.inputIds)
                && Arrays.equals(labels, s.labels) && Arrays.equals(topIds, s.topIds)
                && Arrays.equals(topLogits, s.topLogits);
    }

    @Override
    public int hashCode() {
        return id.hashCode() * 31 + Arrays.hashCode(topIds);
    }

    @Override
    public String toString() {
        return "SampleRepresentation[" + id + ", " + inputIds.length + " positions, k " + k + ", metric_ce "
                + metricCe + "]";
    }
}
