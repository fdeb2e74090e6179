package dev.amalgam.merge.method.legacy;

import dev.amalgam.merge.method.*;

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

    private static final int BLOCK = 2048;

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
        // Mixing in blocks, model by model, so the inner loops are branch-free and vectorise; the per-element
        // order of additions (model 0, 1, ...) is the same as a plain element-by-element loop.
        Chunks.forEach(n, (c, from, to) -> {
            float[] sum = new float[BLOCK];
            float[] mixed = new float[BLOCK];
            float[] div = new float[BLOCK];
            for (int s0 = from; s0 < to; s0 += BLOCK) {
                int len = Math.min(BLOCK, to - s0);
                java.util.Arrays.fill(mixed, 0, len, 0f);
                if (consensus) {
                    java.util.Arrays.fill(sum, 0, len, 0f);
                    java.util.Arrays.fill(div, 0, len, 0f);
                    for (int j = 0; j < k; j++) {
                        float w = weights[j];
                        float[] d = deltas[j];
                        for (int t = 0; t < len; t++) {
                            sum[t] += w * d[s0 + t];
                        }
                    }
                    for (int j = 0; j < k; j++) {
                        float w = weights[j];
                        float[] d = deltas[j];
                        for (int t = 0; t < len; t++) {
                            float v = w * d[s0 + t];
                            // TIES election: the sign of the sum (0 counts as +); zeros never agree
                            int agree = VectorMath.agrees(v, sum[t]);
                            mixed[t] += agree * v;
                            div[t] += agree * w;
                        }
                    }
                    for (int t = 0; t < len; t++) {
                        float m = normalize ? mixed[t] / (div[t] == 0 ? 1f : div[t]) : mixed[t];
                        out[s0 + t] = base[s0 + t] + lambda * m;
                    }
                } else {
                    for (int j = 0; j < k; j++) {
                        float w = weights[j];
                        float[] d = deltas[j];
                        for (int t = 0; t < len; t++) {
                            mixed[t] += w * d[s0 + t];
                        }
                    }
                    for (int t = 0; t < len; t++) {
                        float m = normalize ? mixed[t] / plainDivisor : mixed[t];
                        out[s0 + t] = base[s0 + t] + lambda * m;
                    }
                }
            }
        });
        return out;
    }
}
