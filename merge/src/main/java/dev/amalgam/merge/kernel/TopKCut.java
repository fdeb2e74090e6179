package dev.amalgam.merge.kernel;

/**
 * An exact top-k selection by magnitude key ({@link TopK}), kept as one threshold and one index per chunk instead
 * of a mask or a thinned copy, so that a fused loop applies it while computing the values: in chunk {@code c},
 * element {@code i} is kept iff {@code key(i) > limit(c, i)}, where the limit is {@code bits - 1} before
 * {@code split[c]} and {@code bits} from there on. Equal keys at the threshold are thereby kept by lowest index;
 * only the one chunk where the quota of equal keys runs out has a split strictly inside it.
 *
 * @param bits  the threshold key (the k-th largest)
 * @param split per chunk ({@link Chunks}), the first index from which keys equal to {@code bits} are dropped
 */
public record TopKCut(int bits, int[] split) {

    /** Keeps nothing (limit Integer.MAX_VALUE everywhere; keys are at most that). */
    public static TopKCut none(int n) {
        int[] split = new int[Chunks.count(n)];
        for (int c = 0; c < split.length; c++) {
            split[c] = c * Chunks.SIZE;
        }
        return new TopKCut(Integer.MAX_VALUE, split);
    }

    /** The limit for elements of chunk {@code c} at indices {@code >= from} (and before the next split). */
    public int limit(int c, int from) {
        return from < split[c] ? bits - 1 : bits;
    }

    /** Whether element {@code i} with value {@code v} is kept. */
    public boolean keeps(int i, float v) {
        return TopK.key(v) > limit(i / Chunks.SIZE, i);
    }

    /** Zeroes (to +0) the elements of x the cut drops, in place; bit masks instead of branches. */
    public void applyInPlace(float[] x) {
        Chunks.forEach(x.length, (c, from, to) -> {
            int s = Math.max(from, Math.min(to, split[c]));
            zeroAtOrBelow(x, from, s, bits - 1);
            zeroAtOrBelow(x, s, to, bits);
        });
    }

    private static void zeroAtOrBelow(float[] x, int from, int to, int limit) {
        for (int i = from; i < to; i++) {
            int b = Float.floatToRawIntBits(x[i]);
            x[i] = Float.intBitsToFloat(b & keepMask(b, limit));
        }
    }

    /**
     * All-ones iff {@code key(bits) > limit}, else 0: {@code limit - key} cannot overflow because
     * {@code -1 <= limit <= Integer.MAX_VALUE} and {@code 0 <= key <= Integer.MAX_VALUE}.
     */
    public static int keepMask(int floatBits, int limit) {
        return (limit - (floatBits & 0x7fffffff)) >> 31;
    }
}
