package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import java.util.List;
import java.util.Optional;

/**
 * Model Stock: interpolation ratio t = N cos / (1 + (N - 1) cos) from the mean pairwise cosine of the task
 * vectors; out = t * mean(x_i) + (1 - t) * base. Whole tensor, or per row with {@code filter_wise}.
 */
public final class ModelStockMerge implements MergeMethod {

    @Override
    public String name() {
        return "model_stock";
    }

    @Override
    public String reference() {
        return "https://arxiv.org/abs/2403.19522";
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(ParameterDef.bool("filter_wise", false));
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.REQUIRED;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return nonBaseModels >= 2 ? Optional.empty()
                : Optional.of("model_stock needs at least 3 models (base_model plus two or more others), got base + "
                + nonBaseModels);
    }

    @Override
    public void merge(MergeInputs in, FloatSink out) {
        out.writeAll(modelStock(in));
    }

    private static float[] modelStock(MergeInputs in) {
        float[] base = in.base();
        List<Integer> others = in.others();
        int k = others.size();
        int n = base.length;
        int len = in.params().bool("filter_wise") ? in.columns() : n;
        float[] out = new float[n];
        for (int start = 0; start < n; start += len) {
            double cosSum = 0;
            int pairs = 0;
            for (int a = 0; a < k; a++) {
                float[] xa = in.tensors().get(others.get(a));
                for (int b = a + 1; b < k; b++) {
                    float[] xb = in.tensors().get(others.get(b));
                    double dot = 0;
                    double na = 0;
                    double nb = 0;
                    for (int i = start; i < start + len; i++) {
                        double da = xa[i] - base[i];
                        double db = xb[i] - base[i];
                        dot += da * db;
                        na += da * da;
                        nb += db * db;
                    }
                    double cos = dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-6);
                    cosSum += Math.max(-1, Math.min(1, cos));
                    pairs++;
                }
            }
            double cos = cosSum / pairs;
            float t = (float) (k * cos / (1 + (k - 1) * cos));
            for (int i = start; i < start + len; i++) {
                float avg = 0;
                for (int idx : others) {
                    avg += in.tensors().get(idx)[i];
                }
                avg /= k;
                out[i] = t * avg + (1 - t) * base[i];
            }
        }
        return out;
    }
}
