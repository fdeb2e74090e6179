package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.Chunks;
import dev.amalgam.merge.kernel.FloatSink;
import dev.amalgam.merge.kernel.FloatSource;
import dev.amalgam.merge.kernel.TaskVectors;
import dev.amalgam.merge.kernel.TopK;
import dev.amalgam.merge.kernel.TopKCut;
import dev.amalgam.merge.kernel.VectorMath;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Optional;

/**
 * SCE (FuseChat-2.0): Select the top {@code select_topk} share of positions by variance of the task vectors
 * across models, Calculate per-model weights mean(d_j^2) normalised to sum 1, Erase the elements whose sign
 * disagrees with the majority (sign of the sum), and add the weighted mean of the survivors to the base
 * (docs/algorithms.md, section 3).
 */
public final class SceMerge implements MergeMethod {

    /** Summed mean(d_j^2) below which every model gets weight 1/k (mergekit's {@code sce_weight}). */
    static final double EQUAL_WEIGHTS_BELOW = 1e-6;

    @Override
    public String name() {
        return "sce";
    }

    @Override
    public String reference() {
        return "https://arxiv.org/abs/2408.07990";
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(ParameterDef.bool("int8_mask", false), ParameterDef.number("select_topk", 1.0, 0, 1),
                ParameterDef.bool("select_weights_only", false));
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.REQUIRED;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return nonBaseModels >= 1 ? Optional.empty() : Optional.of("sce needs at least one model besides base_model");
    }

    /** SCE reads its inputs by range, in each of its three passes. */
    @Override
    public boolean streams(TensorParams params) {
        return true;
    }

    /** The variances, when a share is selected; nothing else is tensor-sized. */
    @Override
    public int bufferedTensors(TensorParams params, int inputs) {
        return params.number("select_topk") < 1 ? 1 : 0;
    }

    /**
     * Three passes over the inputs, each computing the task vectors block by block ({@link TaskVectors}): the
     * variances and their top-k cut (Select), the sums of the squared selected deltas (Calculate), then the
     * erase-and-mix pass, which hands each finished chunk to the sink. Only the variances are held whole: reading
     * the inputs again takes a little more time than holding them all widened, and a fraction of the memory.
     */
    @Override
    public void merge(MergeInputs in, FloatSink sink) {
        FloatSource base = in.source(in.baseIndex());
        List<Integer> others = in.others();
        int k = others.size();
        int n = in.length();
        FloatSource[] x = new FloatSource[k];
        for (int j = 0; j < k; j++) {
            x[j] = in.source(others.get(j));
        }
        double tau = in.params().number("select_topk");
        // Select: the variances and a top-k cut over them (no masked copy of the variances); the deltas are
        // selected again by each later pass
        float[] var = null;
        TopKCut cut = null; // null: every position selected
        if (tau < 1) {
            var = new float[n];
            long nonZero = variances(x, base, var);
            cut = TopK.select(var, (int) (tau * nonZero));
        }
        // FuseChat-2.0's own code: the selection shapes only the weights, a weight sum of exactly 0 makes them
        // equal, and a zero divisor becomes 1; mergekit (the default) selects the deltas for every step
        boolean weightsOnly = in.params().bool("select_weights_only");
        float[] w = weights(x, base, var, cut, weightsOnly ? 0 : EQUAL_WEIGHTS_BELOW);
        float[] selVar = var;
        TopKCut selCut = weightsOnly ? null : cut;
        // Erase and mix, model by model (branch-free inner loops; the same order of additions per element)
        TaskVectors.forEachBlock(n, base, x, selCut, () -> new TaskVectors.Pass() {
            final float[] selected = new float[TaskVectors.BLOCK];
            final int[] sel = new int[TaskVectors.BLOCK];
            final float[] sum = new float[TaskVectors.BLOCK];
            final float[] sign = new float[TaskVectors.BLOCK];
            final float[] num = new float[TaskVectors.BLOCK];
            final float[] div = new float[TaskVectors.BLOCK];
            final float[] out = Chunks.buffers(1)[0]; // the chunk's result, handed to the sink whole

            @Override
            public void block(int c, int s0, int len, float[] b, float[][] v, int limit) {
                if (selCut != null) {
                    select(v, selected, sel, selVar, limit, s0, len);
                }
                java.util.Arrays.fill(sum, 0, len, 0f);
                java.util.Arrays.fill(num, 0, len, 0f);
                java.util.Arrays.fill(div, 0, len, 0f);
                for (float[] vj : v) {
                    VectorMath.addTo(sum, vj, len);
                }
                // minority and zero signs are erased
                if (VectorMath.finite(sum, len)) {
                    VectorMath.electedSigns(sign, sum, len);
                    for (int j = 0; j < k; j++) {
                        float[] vj = v[j];
                        float wj = w[j];
                        for (int t = 0; t < len; t++) {
                            float a = VectorMath.agreeFactor(sign[t], vj[t]);
                            num[t] += a * (wj * vj[t]);
                            div[t] += a * wj;
                        }
                    }
                } else { // NaN or infinite values: the bit-level election
                    for (int j = 0; j < k; j++) {
                        float[] vj = v[j];
                        float wj = w[j];
                        for (int t = 0; t < len; t++) {
                            int agree = VectorMath.agrees(vj[t], sum[t]);
                            num[t] += agree * (wj * vj[t]);
                            div[t] += agree * wj;
                        }
                    }
                }
                if (weightsOnly) {
                    for (int t = 0; t < len; t++) { // b holds the base block
                        b[t] = b[t] + num[t] / (div[t] == 0 ? 1f : div[t]);
                    }
                } else {
                    for (int t = 0; t < len; t++) {
                        b[t] = b[t] + num[t] / Math.max(div[t], 1e-6f);
                    }
                }
                System.arraycopy(b, 0, out, s0 - c * Chunks.SIZE, len);
            }

            @Override
            public void endChunk(int c, int from, int to) {
                sink.write(from, out, 0, to - from);
            }
        });
    }

    /**
     * Calculate: matrix-level weights mean(d_j^2) of the selected deltas, normalised to sum 1 (1/k each when their
     * sum is below {@code equalBelow}: {@link #EQUAL_WEIGHTS_BELOW} in mergekit, 0 in FuseChat-2.0's code). Per-chunk
     * double sums, sequential within a chunk and added in chunk order: deterministic.
     */
    private static float[] weights(FloatSource[] x, FloatSource base, float[] var, TopKCut cut, double equalBelow) {
        int k = x.length;
        int n = base.length();
        double[][] parts = new double[k][Chunks.count(n)];
        TaskVectors.forEachBlock(n, base, x, cut, () -> new TaskVectors.Pass() {
            final float[] selected = new float[TaskVectors.BLOCK];
            final int[] sel = new int[TaskVectors.BLOCK];
            final double[] acc = new double[k];

            @Override
            public void block(int c, int s0, int len, float[] b, float[][] v, int limit) {
                if (cut != null) {
                    select(v, selected, sel, var, limit, s0, len);
                }
                // sequential double sums, two models per loop so that the two dependency chains overlap
                for (int j = 0; j < k; j += 2) {
                    float[] v0 = v[j];
                    double a0 = acc[j];
                    if (j + 1 < k) {
                        float[] v1 = v[j + 1];
                        double a1 = acc[j + 1];
                        for (int t = 0; t < len; t++) {
                            a0 += (double) v0[t] * v0[t];
                            a1 += (double) v1[t] * v1[t];
                        }
                        acc[j + 1] = a1;
                    } else {
                        for (int t = 0; t < len; t++) {
                            a0 += (double) v0[t] * v0[t];
                        }
                    }
                    acc[j] = a0;
                }
            }

            @Override
            public void endChunk(int c, int from, int to) {
                for (int j = 0; j < k; j++) {
                    parts[j][c] = acc[j];
                }
            }
        });
        double[] w = new double[k];
        double wsum = 0;
        for (int j = 0; j < k; j++) {
            double dot = 0;
            for (double p : parts[j]) {
                dot += p;
            }
            w[j] = dot / n;
            wsum += w[j];
        }
        float[] wf = new float[k];
        for (int j = 0; j < k; j++) {
            // as mergekit's sce_weight: equal weights once the summed mean squares are below 1e-6
            wf[j] = (float) (Math.abs(wsum) < equalBelow || wsum == 0 ? 1.0 / k : w[j] / wsum);
        }
        return wf;
    }

    /**
     * Zeroes the deltas v[j][0, len) at the positions not selected: a position is selected when the cut keeps its
     * variance (key above {@code limit}) and the variance is positive. {@code selected} and {@code sel} are
     * scratch. Where the variances of the block are finite (so are all its deltas) and the threshold is, the
     * selection is a 0/1 factor in min/max arithmetic, which vectorises; an unselected negative delta then
     * becomes -0 instead of +0, which neither the sums of squares nor the mixing can tell apart. Otherwise the
     * bit-level mask.
     */
    private static void select(float[][] v, float[] selected, int[] sel, float[] var, int limit, int s0, int len) {
        System.arraycopy(var, s0, selected, 0, len);
        if (limit < VectorMath.INFINITY_KEY && VectorMath.finite(selected, len)) {
            // key > limit is var > threshold; with limit -1 (keep every key) only var > 0 remains
            float threshold = limit < 0 ? 0f : Float.intBitsToFloat(limit);
            for (int t = 0; t < len; t++) {
                selected[t] = VectorMath.keepFactor(selected[t], threshold);
            }
            for (float[] vj : v) {
                for (int t = 0; t < len; t++) {
                    vj[t] *= selected[t];
                }
            }
            return;
        }
        for (int t = 0; t < len; t++) {
            int vb = Float.floatToRawIntBits(selected[t]);
            vb &= TopKCut.keepMask(vb, limit);
            sel[t] = -((-vb) >>> 31); // all ones iff the kept variance is positive (its bits are > 0)
        }
        for (float[] vj : v) {
            for (int t = 0; t < len; t++) {
                vj[t] = Float.intBitsToFloat(Float.floatToRawIntBits(vj[t]) & sel[t]);
            }
        }
    }

    /**
     * Writes the population variance across models of d_j = x_j - base at every position and returns the number
     * of non-zero variances.
     */
    private static long variances(FloatSource[] x, FloatSource base, float[] var) {
        int k = x.length;
        int n = base.length();
        AtomicLong nonZero = new AtomicLong();
        TaskVectors.forEachBlock(n, base, x, null, () -> new TaskVectors.Pass() {
            final float[] mean = new float[TaskVectors.BLOCK];
            final float[] acc = new float[TaskVectors.BLOCK];
            long nz;

            @Override
            public void block(int c, int s0, int len, float[] b, float[][] d, int limit) {
                java.util.Arrays.fill(mean, 0, len, 0f);
                java.util.Arrays.fill(acc, 0, len, 0f);
                for (float[] dj : d) {
                    for (int t = 0; t < len; t++) {
                        mean[t] += dj[t];
                    }
                }
                for (int t = 0; t < len; t++) {
                    mean[t] /= k;
                }
                for (float[] dj : d) {
                    for (int t = 0; t < len; t++) {
                        float e = dj[t] - mean[t];
                        acc[t] += e * e;
                    }
                }
                for (int t = 0; t < len; t++) {
                    acc[t] /= k; // population variance
                }
                System.arraycopy(acc, 0, var, s0, len);
                for (int t = 0; t < len; t++) { // a loop of its own: float-bit arithmetic would stop the one above vectorising
                    nz += (-TopK.key(acc[t])) >>> 31; // 1 iff var != 0
                }
            }

            @Override
            public void endChunk(int c, int from, int to) {
                nonZero.addAndGet(nz);
            }
        });
        return nonZero.get();
    }
}
