package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import java.util.List;
import java.util.Optional;

/**
 * RAM, Reinforced Agent Merging (arXiv 2601.13572), and its tensor-local variant RAM+ ({@code ramplus_tl}), as
 * mergekit's {@code ram.py} defines them. With task vectors {@code d_i = x_i - b}, an element counts for model i
 * when {@code |d_i| > epsilon}; {@code c} is the number of models it counts for. An element one model alone
 * changes ({@code c = 1}) keeps that model's delta whole; an element several models change ({@code c > 1}) takes
 * the mean of their deltas (the others' are not averaged in); an element no model changes keeps the base.
 *
 * <p>RAM+ scales the unique deltas of model i by {@code lambda_i = 1 + r * clamp(shared_i / max(unique_i,
 * epsilon), 0, alpha)}, where {@code shared_i} and {@code unique_i} count the elements of this tensor in which model
 * i counts together with other models or alone.
 */
public final class RamMerge implements MergeMethod {

    private final boolean plus;

    /** {@code ram}, or {@code ramplus_tl} when {@code plus}. */
    public RamMerge(boolean plus) {
        this.plus = plus;
    }

    @Override
    public String name() {
        return plus ? "ramplus_tl" : "ram";
    }

    @Override
    public String reference() {
        return "https://arxiv.org/abs/2601.13572";
    }

    @Override
    public List<ParameterDef> parameters() {
        // mergekit declares plain floats without bounds (an alpha below 0 clamps every rho to alpha, as torch does)
        ParameterDef epsilon = ParameterDef.number("epsilon", 1e-5, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
        if (!plus) {
            return List.of(epsilon);
        }
        return List.of(ParameterDef.number("r", 0.1, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY),
                ParameterDef.number("alpha", 0.2, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY), epsilon);
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.REQUIRED;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return Optional.empty(); // mergekit returns the base when it is the only model
    }

    @Override
    public void merge(MergeInputs in, FloatSink out) {
        out.writeAll(ram(in));
    }

    private float[] ram(MergeInputs in) {
        float[] base = in.base();
        List<Integer> others = in.others();
        int k = others.size();
        int n = base.length;
        float eps = (float) in.params().number("epsilon");
        float[][] x = new float[k][];
        for (int i = 0; i < k; i++) {
            x[i] = in.tensors().get(others.get(i));
        }
        // pass 1: how many models change each element (and, for RAM+, each model's shared and unique counts)
        int[] counts = new int[n];
        for (int i = 0; i < k; i++) {
            float[] xi = x[i];
            for (int j = 0; j < n; j++) {
                if (Math.abs(xi[j] - base[j]) > eps) {
                    counts[j]++;
                }
            }
        }
        float[] lambda = new float[k];
        java.util.Arrays.fill(lambda, 1f);
        if (plus) {
            float r = (float) in.params().number("r");
            float alpha = (float) in.params().number("alpha");
            for (int i = 0; i < k; i++) {
                long shared = 0;
                long unique = 0;
                for (int j = 0; j < n; j++) {
                    if (Math.abs(x[i][j] - base[j]) > eps) {
                        if (counts[j] == 1) {
                            unique++;
                        } else {
                            shared++;
                        }
                    }
                }
                float rho = (float) shared / Math.max((float) unique, eps);
                lambda[i] = 1f + r * Math.min(Math.max(rho, 0f), alpha);
            }
        }
        // pass 2: base + the unique delta (times lambda) or the mean of the overlapping deltas
        float[] res = new float[n];
        for (int j = 0; j < n; j++) {
            int c = counts[j];
            float sum = 0f;
            if (c > 0) {
                for (int i = 0; i < k; i++) {
                    float d = x[i][j] - base[j];
                    if (Math.abs(d) > eps) {
                        sum += c == 1 ? d * lambda[i] : d / c;
                    }
                }
            }
            res[j] = base[j] + sum;
        }
        return res;
    }
}
