package dev.amalgam.merge.method;

import java.util.List;
import java.util.Optional;

/**
 * SCE (FuseChat-2.0): Select the top {@code select_topk} share of positions by variance of the task vectors
 * across models, Calculate per-model weights mean(d_j^2) normalised to sum 1, Erase the elements whose sign
 * disagrees with the majority (sign of the sum), and add the weighted mean of the survivors to the base.
 */
public final class SceMerge implements MergeMethod {

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
        Chunks.forEach(n, (c, from, to) -> {
            for (int i = from; i < to; i++) {
                float sum = 0;
                for (int j = 0; j < k; j++) {
                    sum += d[j][i];
                }
                int majority = sum >= 0 ? 1 : -1;
                float num = 0;
                float div = 0;
                for (int j = 0; j < k; j++) {
                    if (VectorMath.sign(d[j][i]) == majority) { // Erase minority (and zero) signs
                        num += wf[j] * d[j][i];
                        div += wf[j];
                    }
                }
                out[i] = base[i] + num / Math.max(div, 1e-6f);
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
            for (int i = from; i < to; i++) {
                double mean = 0;
                for (int j = 0; j < k; j++) {
                    float dj = x[j][i] - base[i];
                    d[j][i] = dj;
                    mean += dj;
                }
                mean /= k;
                double v = 0;
                for (int j = 0; j < k; j++) {
                    v += (d[j][i] - mean) * (d[j][i] - mean);
                }
                float vf = (float) (v / k);
                var[i] = vf;
                h[TopK.highBucket(vf)]++;
                nz += vf != 0 ? 1 : 0;
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
            for (int i = from; i < to; i++) {
                if (var[i] == 0) {
                    for (float[] dj : d) {
                        dj[i] = 0;
                    }
                }
            }
        });
    }
}
