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
        // TIES trimming is not applied to the task vectors but kept as a cut that the mixing pass applies while it
        // reads them (one pass less, and no write); without any thinning the task vectors are not even written
        boolean cutOnTheFly = sparsification == Sparsification.MAGNITUDE && !rescale;
        float[][] src = new float[k][]; // task vectors, or models when sub[j] is the base
        float[][] sub = new float[k][];
        TopKCut[] cuts = new TopKCut[k]; // null: keep all
        float[] weights = new float[k];
        for (int j = 0; j < k; j++) {
            int m = others.get(j);
            TensorParams p = in.modelParams().get(m);
            float[] x = in.tensors().get(m);
            weights[j] = (float) p.number("weight");
            double density = p.number("density");
            if (sparsification == null || density >= 1) {
                src[j] = x;
                sub[j] = base;
                continue;
            }
            float[] delta = in.scratch(m);
            src[j] = delta;
            int keep = (int) (density * n);
            if (cutOnTheFly && keep > 0 && keep < n) {
                // one pass: the task vector and its magnitude histogram for the top-k threshold
                long[] hist = TopK.withHighHistogram(n, (from, to, h) -> {
                    for (int b0 = from; b0 < to; b0 += BLOCK) {
                        int b1 = Math.min(to, b0 + BLOCK);
                        for (int i = b0; i < b1; i++) { // vectorises
                            delta[i] = x[i] - base[i];
                        }
                        for (int i = b0; i < b1; i++) { // the scatter, from cache
                            h.add(i, delta[i]);
                        }
                    }
                });
                cuts[j] = TopK.cut(delta, keep, hist);
            } else if (cutOnTheFly) {
                src[j] = x;
                sub[j] = base;
                cuts[j] = keep <= 0 ? TopKCut.none(n) : null;
            } else {
                VectorMath.subtractInto(delta, x, base);
                sparsification.applyInPlace(delta, in.columns(), density, p.has("gamma") ? p.number("gamma") : 0,
                        p.has("epsilon") ? p.number("epsilon") : 0, rescale, in.seed() * 31 + m);
            }
        }
        float[] out = in.scratch(in.baseIndex()); // element i of base is read before out[i] is written
        mix(in, src, sub, cuts, weights, out);
        return out;
    }

    /**
     * The mixing pass, in blocks, model by model, so the inner loops are branch-free; the per-element order of
     * additions (model 0, 1, ...) is the same as a plain element-by-element loop.
     *
     * @param src  per model, the task vector, or the model when {@code sub} has the base for it
     * @param cuts per model, the top-k cut to apply on the fly, or null
     */
    private void mix(MergeInputs in, float[][] src, float[][] sub, TopKCut[] cuts, float[] weights, float[] out) {
        float[] base = in.base();
        int n = base.length;
        int k = src.length;
        boolean normalize = in.params().bool("normalize");
        float lambda = (float) in.params().number("lambda");
        float wsum = 0;
        for (float w : weights) {
            wsum += w;
        }
        float plainDivisor = Math.abs(wsum) < 1e-8 ? 1 : wsum;
        Chunks.forEach(n, (c, from, to) -> {
            float[][] v = new float[k][BLOCK]; // w_j * (thinned d_j) of the block
            float[] sum = new float[BLOCK];
            float[] sign = new float[BLOCK];
            float[] mixed = new float[BLOCK];
            float[] div = new float[BLOCK];
            for (int s0 = from; s0 < to; ) {
                int end = Math.min(to, s0 + BLOCK);
                for (TopKCut cut : cuts) { // a block never straddles a split, so each model has one limit in it
                    if (cut != null && cut.split()[c] > s0) {
                        end = Math.min(end, cut.split()[c]);
                    }
                }
                int len = end - s0;
                for (int j = 0; j < k; j++) {
                    int limit = cuts[j] == null ? -1 : cuts[j].limit(c, s0);
                    VectorMath.loadWeighted(v[j], src[j], sub[j], s0, len, limit, weights[j]);
                }
                if (!consensus) {
                    java.util.Arrays.fill(mixed, 0, len, 0f);
                    for (int j = 0; j < k; j++) {
                        VectorMath.addTo(mixed, v[j], len);
                    }
                    for (int t = 0; t < len; t++) {
                        float m = normalize ? mixed[t] / plainDivisor : mixed[t];
                        out[s0 + t] = base[s0 + t] + lambda * m;
                    }
                    s0 = end;
                    continue;
                }
                java.util.Arrays.fill(sum, 0, len, 0f);
                for (int j = 0; j < k; j++) {
                    VectorMath.addTo(sum, v[j], len);
                }
                // TIES election: the sign of the sum (0 counts as +); zeros never agree
                java.util.Arrays.fill(mixed, 0, len, 0f);
                java.util.Arrays.fill(div, 0, len, 0f);
                if (VectorMath.finite(sum, len)) {
                    VectorMath.electedSigns(sign, sum, len);
                    for (int j = 0; j < k; j++) {
                        VectorMath.addAgreeing(mixed, div, v[j], sign, weights[j], len);
                    }
                } else { // NaN or infinite values: the bit-level election, as the min/max form assumes finite sums
                    for (int j = 0; j < k; j++) {
                        float[] vj = v[j];
                        float w = weights[j];
                        for (int t = 0; t < len; t++) {
                            int agree = VectorMath.agrees(vj[t], sum[t]);
                            mixed[t] += agree * vj[t];
                            div[t] += agree * w;
                        }
                    }
                }
                if (normalize) {
                    for (int t = 0; t < len; t++) {
                        out[s0 + t] = base[s0 + t] + lambda * (mixed[t] / VectorMath.oneIfZero(div[t]));
                    }
                } else {
                    for (int t = 0; t < len; t++) {
                        out[s0 + t] = base[s0 + t] + lambda * mixed[t];
                    }
                }
                s0 = end;
            }
        });
    }
}
