package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import java.util.List;
import java.util.Optional;

/**
 * VaRM (FuseChat, variation-ratio merge) per the paper: per tensor, W_j = mean(d_j^2) / sum_k mean(d_k^2) with
 * d_j = theta_j - theta_pivot, and theta = sum_j W_j theta_j (equal weights when every delta is zero).
 * The base model is the pivot; it is not itself one of the merged targets (docs/algorithms.md, section 3).
 */
public final class VarmMerge implements MergeMethod {

    @Override
    public String name() {
        return "varm";
    }

    @Override
    public String reference() {
        return "https://arxiv.org/abs/2402.16107";
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.REQUIRED;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return nonBaseModels >= 1 ? Optional.empty() : Optional.of("varm needs at least one target model besides the pivot");
    }

    @Override
    public void merge(MergeInputs in, FloatSink out) {
        out.writeAll(varm(in));
    }

    private static float[] varm(MergeInputs in) {
        float[] pivot = in.base();
        List<Integer> others = in.others();
        int k = others.size();
        int n = pivot.length;
        double[] w = new double[k];
        double sum = 0;
        for (int j = 0; j < k; j++) {
            float[] x = in.tensors().get(others.get(j));
            double s = 0;
            for (int i = 0; i < n; i++) {
                double d = x[i] - pivot[i];
                s += d * d;
            }
            w[j] = s / n;
            sum += w[j];
        }
        float[] out = new float[n];
        for (int j = 0; j < k; j++) {
            float wj = (float) (sum == 0 ? 1.0 / k : w[j] / sum);
            float[] x = in.tensors().get(others.get(j));
            for (int i = 0; i < n; i++) {
                out[i] += wj * x[i];
            }
        }
        return out;
    }
}
