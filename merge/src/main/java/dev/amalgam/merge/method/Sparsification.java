package dev.amalgam.merge.method;

import java.util.SplittableRandom;

/**
 * How a task vector is thinned before mixing (TIES magnitude, DARE random, breadcrumbs outliers, DELLA
 * rank-sampled); rescaling restores the task vector's L1 norm, as current mergekit does.
 */
public enum Sparsification {
    /** Keep the int(density * n) largest magnitudes (TIES). */
    MAGNITUDE,
    /** Keep each element with probability density (DARE). */
    RANDOM,
    /** Drop the gamma share of largest magnitudes and the smallest ones, keep density (Model Breadcrumbs). */
    MAGNITUDE_OUTLIERS,
    /** Per row, keep probability density +- epsilon by magnitude rank (DELLA MagPrune). */
    DELLA_MAGPRUNE;

    private static final double RESCALE_EPS = 1e-7;

    /**
     * Returns the thinned task vector (a new array unless nothing is dropped).
     *
     * @param delta   task vector
     * @param columns length of the last dimension (rows for DELLA)
     */
    float[] apply(float[] delta, int columns, double density, double gamma, double epsilon, boolean rescale,
                  SplittableRandom rnd) {
        if (density >= 1) {
            return delta;
        }
        int n = delta.length;
        boolean[] keep = switch (this) {
            case MAGNITUDE -> VectorMath.topK(VectorMath.abs(delta), (int) (density * n));
            case RANDOM -> bernoulli(n, density, rnd);
            case MAGNITUDE_OUTLIERS -> outliers(delta, density, gamma);
            case DELLA_MAGPRUNE -> density <= 0 ? new boolean[n] : dellaMask(delta, columns, density, epsilon, rnd);
        };
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            if (keep[i]) {
                out[i] = delta[i];
            }
        }
        if (rescale) {
            double before = VectorMath.sumAbs(delta);
            double after = VectorMath.sumAbs(out);
            if (before >= RESCALE_EPS && after >= RESCALE_EPS) {
                float f = (float) (before / after);
                for (int i = 0; i < n; i++) {
                    out[i] *= f;
                }
            }
        }
        return out;
    }

    private static boolean[] bernoulli(int n, double p, SplittableRandom rnd) {
        boolean[] keep = new boolean[n];
        for (int i = 0; i < n; i++) {
            keep[i] = rnd.nextDouble() < p;
        }
        return keep;
    }

    /**
     * Sorted by magnitude ascending, keeps ranks [nBot, n - nTop). Unlike mergekit, nTop = 0 keeps the top
     * (mergekit's slice {@code [n_bot:-0]} zeroes the whole tensor).
     */
    private static boolean[] outliers(float[] delta, double density, double gamma) {
        int n = delta.length;
        int target = (int) (density * n);
        int nTop = (int) (gamma * n);
        int nBot = n - target - nTop;
        if (nBot < 0) {
            nTop += nBot;
            nBot = 0;
        }
        float[] mag = VectorMath.abs(delta);
        boolean[] notBottom = VectorMath.topK(mag, n - nBot);
        boolean[] top = VectorMath.topK(mag, nTop);
        boolean[] keep = new boolean[n];
        for (int i = 0; i < n; i++) {
            keep[i] = notBottom[i] && !top[i];
        }
        return keep;
    }

    private static boolean[] dellaMask(float[] delta, int columns, double density, double epsilon,
                                       SplittableRandom rnd) {
        int n = delta.length;
        int rows = n / columns;
        boolean[] keep = new boolean[n];
        long[] order = new long[columns];
        for (int r = 0; r < rows; r++) {
            int off = r * columns;
            for (int c = 0; c < columns; c++) {
                // bits of a non-negative float sort like the float; the column rides in the low half
                order[c] = ((long) Float.floatToIntBits(Math.abs(delta[off + c])) << 32) | c;
            }
            java.util.Arrays.sort(order);
            for (int rank = 0; rank < columns; rank++) {
                // normalised rank 0 (smallest) .. 1 (largest); a single column gets the middle
                double rankNorm = columns == 1 ? 0.5 : (double) rank / (columns - 1);
                double p = (density - epsilon) + rankNorm * 2 * epsilon;
                keep[off + (int) order[rank]] = rnd.nextDouble() < p;
            }
        }
        return keep;
    }
}
