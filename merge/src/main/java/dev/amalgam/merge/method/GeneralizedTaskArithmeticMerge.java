package dev.amalgam.merge.method;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Task arithmetic and its sparsified / sign-consensus variants, one method configured several ways:
 * task_arithmetic, ties, dare_linear, dare_ties, breadcrumbs, breadcrumbs_ties, della, della_linear.
 *
 * <p>d_i = x_i - base is thinned (sparsification), weighted (w_i d_i), optionally masked by the TIES sign
 * consensus (sign of the sum; 0 counts as +), summed, optionally divided by the sum of the (masked) weights,
 * scaled by lambda and added to the base.
 */
public final class GeneralizedTaskArithmeticMerge implements MergeMethod {

    private final String name;
    private final String reference;
    private final boolean consensus;
    private final Sparsification sparsification;
    private final boolean defaultNormalize;
    private final boolean defaultRescale;

    /**
     * @param consensus      TIES sign consensus ("sum" method) on or off
     * @param sparsification null for none
     */
    public GeneralizedTaskArithmeticMerge(String name, String reference, boolean consensus,
                                          Sparsification sparsification, boolean defaultNormalize,
                                          boolean defaultRescale) {
        this.name = name;
        this.reference = reference;
        this.consensus = consensus;
        this.sparsification = sparsification;
        this.defaultNormalize = defaultNormalize;
        this.defaultRescale = defaultRescale;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String reference() {
        return reference;
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(ParameterDef.bool("int8_mask", false), ParameterDef.bool("normalize", defaultNormalize),
                ParameterDef.bool("rescale", defaultRescale),
                ParameterDef.number("lambda", 1.0, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY));
    }

    @Override
    public List<ParameterDef> modelParameters() {
        List<ParameterDef> defs = new ArrayList<>();
        defs.add(ParameterDef.requiredNumber("weight", Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY));
        defs.add(ParameterDef.number("density", 1.0, 0, 1));
        if (sparsification == Sparsification.MAGNITUDE_OUTLIERS) {
            defs.add(ParameterDef.number("gamma", 0.01, 0, 1));
        }
        if (sparsification == Sparsification.DELLA_MAGPRUNE) {
            defs.add(ParameterDef.number("epsilon", 0.15, 0, 1));
        }
        return defs;
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.REQUIRED;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return nonBaseModels >= 1 ? Optional.empty()
                : Optional.of(name + " needs at least one model besides base_model");
    }

    @Override
    public List<String> checkParams(TensorParams global, List<TensorParams> perModel) {
        List<String> problems = new ArrayList<>();
        if (sparsification == Sparsification.DELLA_MAGPRUNE) {
            for (TensorParams p : perModel) {
                double d = p.number("density");
                double e = p.number("epsilon");
                if (d < 1 && d > 0 && (d + e >= 1 || d - e <= 0)) {
                    problems.add(name + ": density +- epsilon must lie in (0, 1), got density " + d + ", epsilon " + e);
                }
            }
        }
        return problems;
    }

    @Override
    public float[] merge(MergeInputs in) {
        float[] base = in.base();
        int n = base.length;
        List<Integer> others = in.others();
        int k = others.size();
        boolean rescale = in.params().bool("rescale");
        float[][] deltas = new float[k][]; // thinned task vectors
        float[] weights = new float[k];
        for (int j = 0; j < k; j++) {
            int m = others.get(j);
            TensorParams p = in.modelParams().get(m);
            float[] x = in.tensors().get(m);
            float[] delta = in.scratch(m);
            long[] hist = null;
            if (sparsification == Sparsification.MAGNITUDE && p.number("density") < 1) {
                // one pass: the task vector and its magnitude histogram for the top-k threshold
                hist = TopK.withHistogram(n, TopK.HIGH_BUCKETS, (from, to, h) -> {
                    for (int i = from; i < to; i++) {
                        float d = x[i] - base[i];
                        delta[i] = d;
                        h[TopK.highBucket(d)]++;
                    }
                });
            } else {
                VectorMath.subtractInto(delta, x, base);
            }
            if (sparsification != null) {
                sparsification.applyInPlace(delta, hist, in.columns(), p.number("density"),
                        p.has("gamma") ? p.number("gamma") : 0, p.has("epsilon") ? p.number("epsilon") : 0,
                        rescale, in.seed() * 31 + m);
            }
            weights[j] = (float) p.number("weight");
            deltas[j] = delta; // weighted below, inside the mixing pass
        }
        boolean normalize = in.params().bool("normalize");
        float lambda = (float) in.params().number("lambda");
        float[] out = in.scratch(in.baseIndex()); // element i of base is read before out[i] is written
        float wsum = 0;
        for (float w : weights) {
            wsum += w;
        }
        float plainDivisor = Math.abs(wsum) < 1e-8 ? 1 : wsum;
        Chunks.forEach(n, (c, from, to) -> {
            float[] wd = new float[k];
            for (int i = from; i < to; i++) {
                float mixed = 0;
                float divisor;
                if (consensus) {
                    float sum = 0;
                    for (int j = 0; j < k; j++) {
                        wd[j] = weights[j] * deltas[j][i];
                        sum += wd[j];
                    }
                    int majority = sum >= 0 ? 1 : -1; // 0 counts as +
                    divisor = 0;
                    for (int j = 0; j < k; j++) {
                        if (VectorMath.sign(wd[j]) == majority) {
                            mixed += wd[j];
                            divisor += weights[j];
                        }
                    }
                    if (divisor == 0) {
                        divisor = 1;
                    }
                } else {
                    for (int j = 0; j < k; j++) {
                        mixed += weights[j] * deltas[j][i];
                    }
                    divisor = plainDivisor;
                }
                if (normalize) {
                    mixed /= divisor;
                }
                out[i] = base[i] + lambda * mixed;
            }
        });
        return out;
    }
}
