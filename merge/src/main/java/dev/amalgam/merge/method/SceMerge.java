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
        float[][] d = new float[k][];
        for (int j = 0; j < k; j++) {
            d[j] = VectorMath.subtract(in.tensors().get(others.get(j)), base);
        }
        double tau = in.params().number("select_topk");
        if (tau < 1) {
            select(d, tau);
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
        float[] out = new float[n];
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

    /** Zeroes every delta outside the int(tau * nnz(var)) positions of highest population variance. */
    private static void select(float[][] d, double tau) {
        int k = d.length;
        int n = d[0].length;
        float[] var = new float[n];
        double nonZero = Chunks.sum(n, (from, to) -> {
            int nz = 0;
            for (int i = from; i < to; i++) {
                double mean = 0;
                for (float[] dj : d) {
                    mean += dj[i];
                }
                mean /= k;
                double v = 0;
                for (float[] dj : d) {
                    v += (dj[i] - mean) * (dj[i] - mean);
                }
                var[i] = (float) (v / k);
                nz += var[i] != 0 ? 1 : 0;
            }
            return nz;
        });
        int keepCount = (int) (tau * (long) nonZero);
        if (keepCount >= n) {
            return;
        }
        TopK.Threshold t = keepCount > 0 ? TopK.threshold(var, keepCount) : null;
        boolean[] keep = t != null && !t.simple() ? TopK.mask(var, keepCount) : null;
        Chunks.forEach(n, (c, from, to) -> {
            for (int i = from; i < to; i++) {
                boolean kept = t != null && (keep != null ? keep[i] : TopK.atOrAbove(var[i], t));
                if (!kept) {
                    for (float[] dj : d) {
                        dj[i] = 0;
                    }
                }
            }
        });
    }
}
