package dev.amalgam.fusion.fusechat;

import dev.amalgam.fusion.fusechat.align.TopK;

import java.util.Arrays;

/**
 * A probability distribution over the pivot vocabulary that is zero outside a few ids: a softmaxed top-k, a
 * one-hot, or a mix of such. Probabilities are doubles; the authors build the dense tensor in BF16.
 *
 * @param ids distinct pivot token ids, ascending
 * @param probs the probability of each id (each in [0, 1], summing to 1 up to rounding)
 */
public record SparseDistribution(int[] ids, double[] probs) {

    public SparseDistribution {
        if (ids.length != probs.length) {
            throw new IllegalArgumentException("distribution has " + ids.length + " ids but " + probs.length
                    + " probabilities");
        }
        if (ids.length == 0) {
            throw new IllegalArgumentException("a distribution needs at least one id");
        }
        for (int k = 0; k < ids.length; k++) {
            if (ids[k] < 0 || (k > 0 && ids[k] <= ids[k - 1])) {
                throw new IllegalArgumentException("distribution ids must be distinct, >= 0 and ascending: "
                        + Arrays.toString(ids));
            }
            if (!(probs[k] >= 0 && probs[k] <= 1)) {
                throw new IllegalArgumentException("probability of id " + ids[k] + " is " + probs[k]
                        + ", not in [0, 1]");
            }
        }
        ids = ids.clone();
        probs = probs.clone();
    }

    /**
     * q = softmax(logits / temperature) over the top-k's ids (step 3 of FuseChat; temperature 1.0 in the
     * authors' recipes). The top-k must not be empty.
     */
    public static SparseDistribution softmax(TopK topK, double temperature) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and > 0, got " + temperature);
        }
        if (topK.size() == 0) {
            throw new IllegalArgumentException("cannot softmax an empty top-k");
        }
        Integer[] order = new Integer[topK.size()];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
            float z = topK.logit(k);
            if (!Float.isFinite(z)) {
                throw new IllegalArgumentException("top-k logit of id " + topK.id(k) + " is " + z);
            }
            max = Math.max(max, z / temperature);
        }
        Arrays.sort(order, (a, b) -> Integer.compare(topK.id(a), topK.id(b)));
        int[] ids = new int[order.length];
        double[] e = new double[order.length];
        double sum = 0;
        for (int k = 0; k < order.length; k++) {
            ids[k] = topK.id(order[k]);
            e[k] = Math.exp(topK.logit(order[k]) / temperature - max);
            sum += e[k];
        }
        for (int k = 0; k < e.length; k++) {
            e[k] /= sum;
        }
        return new SparseDistribution(ids, e);
    }

    public static SparseDistribution oneHot(int id) {
        return new SparseDistribution(new int[] {id}, new double[] {1.0});
    }

    public int size() {
        return ids.length;
    }

    public int id(int k) {
        return ids[k];
    }

    public double prob(int k) {
        return probs[k];
    }

    /** The probability of a token id (0 outside the support). */
    public double probOf(int id) {
        int k = Arrays.binarySearch(ids, id);
        return k >= 0 ? probs[k] : 0.0;
    }

    /** The dense vector over {@code vocabSize} ids (the pivot tokenizer's length); every id must be below it. */
    public double[] toDense(int vocabSize) {
        double[] dense = new double[vocabSize];
        for (int k = 0; k < ids.length; k++) {
            if (ids[k] >= vocabSize) {
                throw new IllegalArgumentException("id " + ids[k] + " is outside the vocabulary of " + vocabSize);
            }
            dense[ids[k]] = probs[k];
        }
        return dense;
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    @Override
    public double[] probs() {
        return probs.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SparseDistribution other && Arrays.equals(ids, other.ids) && Arrays.equals(probs, other.probs);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ids) + Arrays.hashCode(probs);
    }

    @Override
    public String toString() {
        return "SparseDistribution" + Arrays.toString(ids) + Arrays.toString(probs);
    }
}
