package dev.amalgam.merge.method;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A plain reference implementation of the methods that have fast kernels (linear, the task-arithmetic family,
 * SCE), written from mergekit's semantics ({@code merge_methods/linear.py}, {@code generalized_task_arithmetic.py},
 * {@code sparsify.py}, {@code sce.py}) and the deliberate differences listed in merge/README.md: whole arrays, one
 * element at a time, every step materialised, no chunks, no blocks, no cuts.
 *
 * <p>It is written in the same FP32 operations, in the same order per element, as the methods define them, so a
 * correct fast path equals it exactly. Two things are part of the definition rather than of the speed: the random
 * streams of DARE (one per 2^18-element chunk) and DELLA (one per row), and the double sums of L1 norms and squares,
 * which are added per 2^18-element chunk and then in chunk order, so results do not depend on the thread count.
 */
final class NaiveMerges {

    /** The fixed chunk of the random streams and of the double sums (the implementation's Chunks.SIZE). */
    static final int CHUNK = 1 << 18;


    private NaiveMerges() {
    }

    /** linear: sum_m w_m x_m / sum_m w_m (without {@code normalize}: not divided). */
    static float[] linear(float[][] x, double[] weights, boolean normalize) {
        int n = x[0].length;
        double wsum = 0;
        for (double w : weights) {
            wsum += w;
        }
        float div = normalize ? (float) wsum : 1f;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float s = (float) weights[0] * x[0][i];
            for (int m = 1; m < x.length; m++) {
                s += (float) weights[m] * x[m][i];
            }
            out[i] = s / div;
        }
        return out;
    }

    /** How a task vector is thinned (mergekit's SparsificationMethod). */
    enum Thinning { NONE, MAGNITUDE, RANDOM, MAGNITUDE_OUTLIERS, DELLA }

    /** One model's parameters. */
    record ModelParams(double weight, double density, double gamma, double epsilon) {
    }

    /**
     * Generalized task arithmetic: d_m = x_m - base, thinned, v_m = w_m d_m; with consensus, the elected sign is
     * the sign of sum_m v_m (0 counts as +) and only the non-zero v_m of that sign are added; normalised by the
     * sum of the (agreeing) weights; base + lambda * mix.
     *
     * @param params per input, parallel to x (the base's entry is ignored)
     * @param seed   the tensor's seed; model m's seed is substream m of it (see {@link #substream})
     * @param columns the last dimension (DELLA ranks within rows)
     */
    static float[] taskArithmetic(float[][] x, int baseIndex, ModelParams[] params, Thinning thinning,
                                  boolean consensus, boolean normalize, boolean rescale, double lambda, long seed,
                                  int columns) {
        float[] base = x[baseIndex];
        int n = base.length;
        int k = x.length - 1;
        float[][] v = new float[k][];
        float[] w = new float[k];
        int j = 0;
        for (int m = 0; m < x.length; m++) {
            if (m == baseIndex) {
                continue;
            }
            float[] d = new float[n];
            for (int i = 0; i < n; i++) {
                d[i] = x[m][i] - base[i];
            }
            ModelParams p = params[m];
            if (thinning != Thinning.NONE && p.density() < 1) {
                thin(d, thinning, p, rescale, substream(seed, m), columns);
            }
            w[j] = (float) p.weight();
            v[j] = new float[n];
            for (int i = 0; i < n; i++) {
                v[j][i] = w[j] * d[i];
            }
            j++;
        }
        float wsum = 0;
        for (float wj : w) {
            wsum += wj;
        }
        float plainDivisor = Math.abs(wsum) < 1e-8 ? 1 : wsum;
        float lam = (float) lambda;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float sum = 0f;
            for (int m = 0; m < k; m++) {
                sum += v[m][i];
            }
            float mix;
            if (consensus) {
                float mixed = 0f;
                float div = 0f;
                for (int m = 0; m < k; m++) {
                    float mask = agrees(v[m][i], sum) ? 1f : 0f;
                    mixed += mask * v[m][i];
                    div += mask * w[m];
                }
                mix = normalize ? mixed / (div == 0 ? 1 : div) : mixed;
            } else {
                mix = normalize ? sum / plainDivisor : sum;
            }
            out[i] = base[i] + lam * mix;
        }
        return out;
    }

    /**
     * The TIES election: v takes part when it is non-zero and has the sign of the sum, where a zero sum counts as
     * + (the float sum of the v is never -0) and a NaN sum has the sign of its sign bit.
     */
    static boolean agrees(float v, float sum) {
        return v != 0 && (Float.floatToRawIntBits(v) < 0) == (Float.floatToRawIntBits(sum) < 0);
    }

    /**
     * Seed of substream i of a seed: the (i+1)-th nextLong() of a SplitMix64 generator (java.util.SplittableRandom)
     * started at the seed, drawn one by one.
     */
    static long substream(long seed, long i) {
        SplittableRandom g = new SplittableRandom(seed);
        for (long k = 0; k < i; k++) {
            g.nextLong();
        }
        return g.nextLong();
    }

    private static void thin(float[] d, Thinning thinning, ModelParams p, boolean rescale, long seed, int columns) {
        int n = d.length;
        double before = rescale ? chunkedSumAbs(d) : 0;
        switch (thinning) {
            case MAGNITUDE -> {
                boolean[] keep = largestMagnitudes(d, (int) (p.density() * n));
                for (int i = 0; i < n; i++) {
                    if (!keep[i]) {
                        d[i] = 0;
                    }
                }
            }
            case RANDOM -> { // Bernoulli(density) keep mask, one random stream per chunk
                for (int c = 0; c * CHUNK < n; c++) {
                    SplittableRandom rnd = new SplittableRandom(substream(seed, c));
                    for (int i = c * CHUNK; i < Math.min(n, (c + 1) * CHUNK); i++) {
                        if (!(rnd.nextDouble() < p.density())) {
                            d[i] = 0;
                        }
                    }
                }
            }
            case MAGNITUDE_OUTLIERS -> { // ranks from the largest magnitude: drop [0, nTop) and [n - nBot, n)
                int target = (int) (p.density() * n);
                int nTop = (int) (p.gamma() * n);
                int nBot = n - target - nTop;
                if (nBot < 0) {
                    nTop += nBot;
                    nBot = 0;
                }
                int[] order = byMagnitudeDescending(d);
                for (int r = 0; r < n; r++) {
                    if (r < nTop || r >= n - nBot) {
                        d[order[r]] = 0;
                    }
                }
            }
            case DELLA -> della(d, columns, p.density(), p.epsilon(), seed);
            default -> throw new IllegalArgumentException(thinning.name());
        }
        if (rescale) { // restore the L1 norm
            double after = chunkedSumAbs(d);
            if (before >= 1e-7 && after >= 1e-7) {
                float f = (float) (before / after);
                for (int i = 0; i < n; i++) {
                    d[i] *= f;
                }
            }
        }
    }

    /** DELLA MagPrune per row: keep probability (density - eps) + 2 eps * rank / (columns - 1) by ascending |d|. */
    private static void della(float[] d, int columns, double density, double epsilon, long seed) {
        if (density <= 0) {
            Arrays.fill(d, 0f);
            return;
        }
        int rows = d.length / columns;
        for (int r = 0; r < rows; r++) {
            int off = r * columns;
            long[] order = new long[columns]; // ascending |d| (as float bits), ties by column
            for (int c = 0; c < columns; c++) {
                order[c] = ((long) Float.floatToIntBits(Math.abs(d[off + c])) << 32) | c;
            }
            Arrays.sort(order);
            SplittableRandom rnd = new SplittableRandom(substream(seed, r));
            for (int rank = 0; rank < columns; rank++) {
                double rankNorm = columns == 1 ? 0.5 : (double) rank / (columns - 1);
                double p = (density - epsilon) + rankNorm * 2 * epsilon;
                if (!(rnd.nextDouble() < p)) {
                    d[off + (int) order[rank]] = 0;
                }
            }
        }
    }

    /**
     * SCE: Select the top int(select_topk * nonzero) positions by variance of the task vectors (a position with a
     * zero or sign-bit-set NaN variance is never selected), Calculate the weights mean(d_m^2) normalised to sum 1
     * (1/k each when all are 0), Erase the minority signs (TIES election), and add sum(w e d) / max(sum(w e), 1e-6).
     */
    static float[] sce(float[][] x, int baseIndex, double selectTopk) {
        float[] base = x[baseIndex];
        int n = base.length;
        int k = x.length - 1;
        float[][] d = new float[k][n];
        for (int m = 0, j = 0; m < x.length; m++) {
            if (m != baseIndex) {
                for (int i = 0; i < n; i++) {
                    d[j][i] = x[m][i] - base[i];
                }
                j++;
            }
        }
        if (selectTopk < 1) {
            float[] var = new float[n];
            long nonZero = 0;
            for (int i = 0; i < n; i++) {
                float mean = 0f;
                for (int j = 0; j < k; j++) {
                    mean += d[j][i];
                }
                mean /= k;
                float acc = 0f;
                for (int j = 0; j < k; j++) {
                    float e = d[j][i] - mean;
                    acc += e * e;
                }
                var[i] = acc / k; // population variance
                nonZero += var[i] != 0 ? 1 : 0;
            }
            boolean[] top = largestMagnitudes(var, (int) (selectTopk * nonZero));
            for (int i = 0; i < n; i++) {
                if (!top[i] || Float.floatToRawIntBits(var[i]) <= 0) {
                    for (int j = 0; j < k; j++) {
                        d[j][i] = 0;
                    }
                }
            }
        }
        double[] w = new double[k];
        double wsum = 0;
        for (int j = 0; j < k; j++) {
            w[j] = chunkedSumSquares(d[j]) / n;
            wsum += w[j];
        }
        float[] wf = new float[k];
        for (int j = 0; j < k; j++) {
            wf[j] = (float) (Math.abs(wsum) < 1e-6 ? 1.0 / k : w[j] / wsum); // mergekit: |sum| < 1e-6 -> 1/k
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float sum = 0f;
            for (int j = 0; j < k; j++) {
                sum += d[j][i];
            }
            float num = 0f;
            float div = 0f;
            for (int j = 0; j < k; j++) {
                float mask = agrees(d[j][i], sum) ? 1f : 0f;
                num += mask * (wf[j] * d[j][i]);
                div += mask * wf[j];
            }
            out[i] = base[i] + num / Math.max(div, 1e-6f);
        }
        return out;
    }

    /**
     * The k largest magnitudes (|x| as float bits, so NaN above infinity), the lowest indices first among equal
     * ones: sorting, the plain definition.
     */
    static boolean[] largestMagnitudes(float[] x, int k) {
        boolean[] keep = new boolean[x.length];
        int[] order = byMagnitudeDescending(x);
        for (int r = 0; r < Math.min(Math.max(k, 0), x.length); r++) {
            keep[order[r]] = true;
        }
        return keep;
    }

    /** Indices by descending magnitude key, ascending index among equal keys. */
    private static int[] byMagnitudeDescending(float[] x) {
        long[] sorted = new long[x.length];
        for (int i = 0; i < x.length; i++) {
            long key = Float.floatToRawIntBits(x[i]) & 0x7fffffff;
            sorted[i] = ((0x7fffffffL - key) << 32) | i;
        }
        Arrays.sort(sorted);
        int[] order = new int[x.length];
        for (int r = 0; r < x.length; r++) {
            order[r] = (int) sorted[r];
        }
        return order;
    }

    private static double chunkedSumAbs(float[] a) {
        double total = 0;
        for (int from = 0; from < a.length; from += CHUNK) {
            double s = 0;
            for (int i = from; i < Math.min(a.length, from + CHUNK); i++) {
                s += Math.abs(a[i]);
            }
            total += s;
        }
        return total;
    }

    private static double chunkedSumSquares(float[] a) {
        double total = 0;
        for (int from = 0; from < a.length; from += CHUNK) {
            double s = 0;
            for (int i = from; i < Math.min(a.length, from + CHUNK); i++) {
                s += (double) a[i] * a[i];
            }
            total += s;
        }
        return total;
    }
}
