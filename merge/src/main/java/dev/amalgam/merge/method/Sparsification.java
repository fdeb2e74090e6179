package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.Chunks;
import dev.amalgam.merge.kernel.RandomStreams;
import dev.amalgam.merge.kernel.TopK;
import dev.amalgam.merge.kernel.TopKCut;
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
     * Thins a task vector in place.
     *
     * @param delta   task vector (overwritten)
     * @param columns length of the last dimension (DELLA ranks within rows)
     * @param byDensity with {@code rescale}: divide the kept values by the density (DARE's 1/(1-p)) instead of
     *                restoring the L1 norm
     * @param seed    seed of this model's tensor; random streams are per chunk (per row for DELLA), substream c
     *                (r) of it ({@link RandomStreams}), so results do not depend on the thread count
     */
    void applyInPlace(float[] delta, int columns, double density, double gamma, double epsilon, boolean rescale,
                      boolean byDensity, long seed) {
        if (density >= 1) {
            return;
        }
        int n = delta.length;
        double before = rescale && !byDensity ? Chunks.sum(n, (from, to) -> sumAbs(delta, from, to)) : 0;
        switch (this) {
            case MAGNITUDE -> {
                TopKCut cut = TopK.select(delta, (int) (density * n));
                if (cut != null) {
                    cut.applyInPlace(delta);
                }
            }
            case RANDOM -> Chunks.forEach(n, (c, from, to) -> {
                SplittableRandom rnd = RandomStreams.stream(seed, c);
                for (int i = from; i < to; i++) {
                    if (!(rnd.nextDouble() < density)) {
                        delta[i] = 0;
                    }
                }
            });
            case MAGNITUDE_OUTLIERS -> outliers(delta, density, gamma);
            case DELLA_MAGPRUNE -> della(delta, columns, density, epsilon, seed);
        }
        if (rescale && byDensity && density > 0) { // density 0 keeps nothing: there is nothing to scale
            float f = (float) (1 / density);
            Chunks.forEach(n, (c, from, to) -> {
                for (int i = from; i < to; i++) {
                    delta[i] *= f;
                }
            });
        } else if (rescale && !byDensity) {
            double after = Chunks.sum(n, (from, to) -> sumAbs(delta, from, to));
            if (before >= RESCALE_EPS && after >= RESCALE_EPS) {
                float f = (float) (before / after);
                Chunks.forEach(n, (c, from, to) -> {
                    for (int i = from; i < to; i++) {
                        delta[i] *= f;
                    }
                });
            }
        }
    }

    private static double sumAbs(float[] a, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += Math.abs(a[i]);
        }
        return s;
    }

    /**
     * Sorted by magnitude ascending, keeps ranks [nBot, n - nTop). Unlike mergekit, nTop = 0 keeps the top
     * (mergekit's slice {@code [n_bot:-0]} zeroes the whole tensor).
     */
    private static void outliers(float[] delta, double density, double gamma) {
        int n = delta.length;
        int target = (int) (density * n);
        int nTop = (int) (gamma * n);
        int nBot = n - target - nTop;
        if (nBot < 0) {
            nTop += nBot;
            nBot = 0;
        }
        TopKCut notBottom = TopK.select(delta, n - nBot); // null: keeps all
        TopKCut top = TopK.select(delta, nTop);
        Chunks.forEach(n, (c, from, to) -> {
            for (int i = from; i < to; i++) {
                float v = delta[i];
                if ((notBottom != null && !notBottom.keeps(i, v)) || top == null || top.keeps(i, v)) {
                    delta[i] = 0;
                }
            }
        });
    }

    /** Per row: keep probability (density - eps) + rank_norm * 2 eps by ascending magnitude rank. */
    private static void della(float[] delta, int columns, double density, double epsilon, long seed) {
        int n = delta.length;
        if (density <= 0) {
            java.util.Arrays.fill(delta, 0f);
            return;
        }
        int rows = n / columns;
        Chunks.parallel(rows, r -> {
            int off = r * columns;
            long[] order = new long[columns];
            for (int c = 0; c < columns; c++) {
                // bits of a non-negative float sort like the float; the column rides in the low half
                order[c] = ((long) Float.floatToIntBits(Math.abs(delta[off + c])) << 32) | c;
            }
            java.util.Arrays.sort(order);
            SplittableRandom rnd = RandomStreams.stream(seed, r);
            for (int rank = 0; rank < columns; rank++) {
                // normalised rank 0 (smallest) .. 1 (largest); a single column gets the middle
                double rankNorm = columns == 1 ? 0.5 : (double) rank / (columns - 1);
                double p = (density - epsilon) + rankNorm * 2 * epsilon;
                if (!(rnd.nextDouble() < p)) {
                    delta[off + (int) order[rank]] = 0;
                }
            }
        });
    }
}
