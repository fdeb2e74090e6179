package dev.amalgam.fusion.fusechat.align;

import java.util.Arrays;

/**
 * The k largest logits of one position and their token ids (they predict the next token), as the
 * representation step stores them; after {@link DistributionAligner alignment} the ids are pivot ids and k may
 * be smaller (duplicates dropped) or 1 (the one-hot fallback, logit 1.0), or 0 (no usable distribution).
 *
 * @param ids token ids, distinct
 * @param logits the logit of each id, same length
 */
public record TopK(int[] ids, float[] logits) {

    public TopK {
        if (ids.length != logits.length) {
            throw new IllegalArgumentException("top-k has " + ids.length + " ids but " + logits.length + " logits");
        }
        ids = ids.clone();
        logits = logits.clone();
    }

    /** The one-hot fallback: logit 1.0 on a single id. */
    public static TopK oneHot(int id) {
        return new TopK(new int[] {id}, new float[] {1.0f});
    }

    public static TopK empty() {
        return new TopK(new int[0], new float[0]);
    }

    public int size() {
        return ids.length;
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    @Override
    public float[] logits() {
        return logits.clone();
    }

    public int id(int k) {
        return ids[k];
    }

    public float logit(int k) {
        return logits[k];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopK other && Arrays.equals(ids, other.ids) && Arrays.equals(logits, other.logits);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ids) + Arrays.hashCode(logits);
    }

    @Override
    public String toString() {
        return "TopK" + Arrays.toString(ids) + Arrays.toString(logits);
    }
}
