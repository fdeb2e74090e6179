package dev.amalgam.merge.method.legacy;

import dev.amalgam.merge.method.*;

import java.util.List;
import java.util.Optional;

/**
 * SCE (FuseChat-2.0): Select the top {@code select_topk} share of positions by variance of the task vectors
 * across models, Calculate per-model weights mean(d_j^2) normalised to sum 1, Erase the elements whose sign
 * disagrees with the majority (sign of the sum), and add the weighted mean of the survivors to the base.
 */
public final class SceMerge implements MergeMethod {

    private static final int BLOCK = 2048;

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
        return List.of(ParameterDef.bool("int8_mask", false), ParameterDef.number("select_topk", 1.0, 0, 1));
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.REQUIRED;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return nonBaseModels >= 1 ? Optional.empty() : Optional.of("sce needs at least one model besides base_model");
    }

    @Override
    public float[] merge(MergeInputs in) {
        float[] base = in.base();
        List<Integer> others = in.others();
        int k = others.size();
        int n = base.length;
        float[][] x = new float[k][];
        float[][] d = new float[k][];
        for (int j = 0; j < k; j++) {
            x[j] = in.tensors().get(others.get(j));
            d[j] = in.scratch(others.get(j));
        }
        double tau = in.params().number("select_topk");
        if (tau < 1) {
            selectDeltas(x, base, d, tau);
        } else {
            for (int j = 0; j < k; j++) {
                VectorMath.subtractInto(d[j], x[j], base);
            }
        }
        // Calculate: matrix-level weights mean(d_j^2) from the (selected) deltas
        double[] w = new double[k];
        double wsum = 0;
        for (int j = 0; j < k; j++) {
            w[j] = VectorMath.dot(d[j], d[j]) / n;
            wsum += w[j];
        }
        float[] wf = new float[k];
        for (int j = 0; j < k; j++) {
            wf[j] = (float) (wsum == 0 ? 1.0 / k : w[j] / wsum);
        }
        float[] out = in.scratch(in.baseIndex()); // element i of base is read before out[i] is written
        // Erase and mix in blocks, model by model (branch-free inner loops; same addition order per element)
        Chunks.forEach(n, (c, from, to) -> {
            float[] sum = new float[BLOCK];
            float[] num = new float[BLOCK];
            float[] div = new float[BLOCK];
            for (int s0 = from; s0 < to; s0 += BLOCK) {
                int len = Math.min(BLOCK, to - s0);
                java.util.Arrays.fill(sum, 0, len, 0f);
                java.util.Arrays.fill(num, 0, len, 0f);
                java.util.Arrays.fill(div, 0, len, 0f);
                for (int j = 0; j < k; j++) {
                    float[] dj = d[j];
                    for (int t = 0; t < len; t++) {
                        sum[t] += dj[s0 + t];
                    }
                }
                for (int j = 0; j < k; j++) {
                    float[] dj = d[j];
                    float wj = wf[j];
                    for (int t = 0; t < len; t++) {
                        float v = dj[s0 + t];
                        int agree = VectorMath.agrees(v, sum[t]); // minority and zero signs are erased
                        num[t] += agree * (wj * v);
                        div[t] += agree * wj;
                    }
                }
                for (int t = 0; t < len; t++) {
                    out[s0 + t] = base[s0 + t] + num[t] / Math.max(div[t], 1e-6f);
                }
            }
        });
        return out;
    }

    /**
     * Select: writes d_j = x_j - base keeping only the int(tau * nnz(var)) positions of highest population
     * variance across models (zero elsewhere). One pass builds deltas, variances and their histogram.
     */
    private static void selectDeltas(float[][] x, float[] base, float[][] d, double tau) {
        int k = x.length;
        int n = base.length;
        float[] var = new float[n];
        long[] nonZero = new long[1];
        long[] high = TopK.withHistogram(n, TopK.HIGH_BUCKETS, (from, to, h) -> {
            long nz = 0;
            float[] mean = new float[BLOCK];
            float[] acc = new float[BLOCK];
            for (int s0 = from; s0 < to; s0 += BLOCK) {
                int len = Math.min(BLOCK, to - s0);
                java.util.Arrays.fill(mean, 0, len, 0f);
                java.util.Arrays.fill(acc, 0, len, 0f);
                for (int j = 0; j < k; j++) {
                    float[] xj = x[j];
                    float[] dj = d[j];
                    for (int t = 0; t < len; t++) {
                        float v = xj[s0 + t] - base[s0 + t];
                        dj[s0 + t] = v;
                        mean[t] += v;
                    }
                }
                for (int t = 0; t < len; t++) {
                    mean[t] /= k;
                }
                for (int j = 0; j < k; j++) {
                    float[] dj = d[j];
                    for (int t = 0; t < len; t++) {
                        float e = dj[s0 + t] - mean[t];
                        acc[t] += e * e;
                    }
                }
                for (int t = 0; t < len; t++) {
                    float vf = acc[t] / k; // population variance
                    var[s0 + t] = vf;
                    h[TopK.highBucket(vf)]++;
                    nz += vf != 0 ? 1 : 0;
                }
            }
            synchronized (nonZero) {
                nonZero[0] += nz;
            }
        });
        int keepCount = (int) (tau * nonZero[0]);
        if (keepCount >= n) {
            return;
        }
        TopK.keepInPlace(var, keepCount, high); // var is scratch: zero means "not selected" from here on
        Chunks.forEach(n, (c, from, to) -> {
            for (float[] dj : d) {
                for (int i = from; i < to; i++) {
                    int vb = Float.floatToRawIntBits(var[i]); // var >= 0: bits > 0 iff selected
                    int keep = -((-vb) >>> 31); // all ones iff selected
                    dj[i] = Float.intBitsToFloat(Float.floatToRawIntBits(dj[i]) & keep);
                }
            }
        });
    }
}
