package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import dev.amalgam.merge.kernel.FloatSource;
import dev.amalgam.merge.kernel.RandomStreams;
import dev.amalgam.merge.kernel.TaskVectors;
import dev.amalgam.merge.kernel.TopK;
import dev.amalgam.merge.kernel.TopKCut;
import dev.amalgam.merge.kernel.VectorMath;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Task arithmetic and its sparsified and sign-consensus variants, as mergekit's
 * {@code generalized_task_arithmetic.py}: task_arithmetic, ties, dare_linear, dare_ties, breadcrumbs,
 * breadcrumbs_ties, della, della_linear (docs/algorithms.md, section 4).
 *
 * <p>For each model, the task vector d_j = x_j - base is thinned ({@link Sparsification}: top-k magnitudes,
 * DARE's random drop, breadcrumbs' outliers, DELLA's rank-sampled drop) and weighted: v_j = w_j d_j. With the
 * TIES sign consensus, the elected sign of each element is the sign of sum_j v_j (0 counts as +), and only the v_j
 * that are non-zero and have that sign are summed; with {@code normalize}, the sum is divided by the sum of their
 * weights (1 where none agrees), else, without consensus, by sum_j w_j. The result is base + lambda * mix.
 *
 * <p>TIES's top-k trimming (without {@code rescale}) is kept as a cut that the mixing pass applies as it reads the
 * inputs, so task arithmetic and TIES stream; the random and per-row sparsifications thin whole task vectors first.
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
        List<ParameterDef> defs = new ArrayList<>(List.of(ParameterDef.bool("int8_mask", false),
                ParameterDef.bool("normalize", defaultNormalize), ParameterDef.bool("rescale", defaultRescale),
                ParameterDef.number("lambda", 1.0, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY)));
        if (sparsification == Sparsification.RANDOM) {
            // DARE's own rescaling, 1/density (the paper, and the mergekit version FuseChat's configs ran with)
            // instead of today's mergekit, which restores the task vector's L1 norm
            defs.add(ParameterDef.bool("rescale_by_density", false));
        }
        return defs;
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

    /**
     * Task arithmetic, and TIES without rescaling, read every input by range and write the result chunk by chunk
     * (no tensor-sized buffer); the random and per-row sparsifications work on whole task vectors.
     */
    @Override
    public boolean streams(TensorParams params) {
        return sparsification == null || (sparsification == Sparsification.MAGNITUDE && !params.bool("rescale"));
    }

    /**
     * Streamed, at most one tensor's worth per task vector: the top-k selection's key lists (all of a task
     * vector's keys when most of them tie at the threshold, such as many unchanged weights, or after a sample
     * that missed).
     */
    @Override
    public int bufferedTensors(TensorParams params, int inputs) {
        return streams(params) ? inputs - 1 : inputs + 2;
    }

    @Override
    public void merge(MergeInputs in, FloatSink out) {
        int n = in.length();
        List<Integer> others = in.others();
        int k = others.size();
        float[] weights = new float[k];
        for (int j = 0; j < k; j++) {
            weights[j] = (float) in.modelParams().get(others.get(j)).number("weight");
        }
        TaskVectors.Source[] deltas = new TaskVectors.Source[k];
        TopKCut[] cuts = new TopKCut[k]; // null: keep every element
        FloatSource base;
        if (streams(in.params())) {
            base = in.source(in.baseIndex());
            for (int j = 0; j < k; j++) {
                deltas[j] = TaskVectors.Source.minusBase(in.source(others.get(j)));
            }
            if (sparsification != null) {
                trimmedByMagnitude(in, base, deltas, cuts);
            }
        } else {
            float[] b = in.base();
            base = FloatSource.of(b);
            for (int j = 0; j < k; j++) {
                int m = others.get(j);
                TensorParams p = in.modelParams().get(m);
                float[] delta = VectorMath.subtractInto(in.scratch(m), in.array(m), b);
                double density = p.number("density");
                if (density < 1) {
                    sparsification.applyInPlace(delta, in.columns(), density, p.has("gamma") ? p.number("gamma") : 0,
                            p.has("epsilon") ? p.number("epsilon") : 0, in.params().bool("rescale"),
                            in.params().has("rescale_by_density") && in.params().bool("rescale_by_density"),
                            RandomStreams.seed(in.seed(), m));
                }
                deltas[j] = TaskVectors.Source.of(delta);
            }
        }
        boolean normalize = in.params().bool("normalize");
        float lambda = (float) in.params().number("lambda");
        float wsum = 0;
        for (float w : weights) {
            wsum += w;
        }
        float divisor = Math.abs(wsum) < 1e-8 ? 1 : wsum;
        TaskVectors.mix(n, base, deltas, cuts, weights,
                () -> consensus ? new SignConsensus(weights, normalize, lambda) : plainSum(normalize, lambda, divisor),
                out);
    }

    /**
     * TIES trimming kept as cuts: cuts[j] keeps the int(density_j n) largest magnitudes of d_j, found in one pass
     * over the inputs that computes the task vectors chunk by chunk; deltas[j] becomes null where nothing is kept.
     */
    private static void trimmedByMagnitude(MergeInputs in, FloatSource base, TaskVectors.Source[] deltas,
                                           TopKCut[] cuts) {
        int n = in.length();
        List<Integer> others = in.others();
        List<Integer> trimmed = new ArrayList<>(); // the models with something to select
        for (int j = 0; j < deltas.length; j++) {
            int count = (int) (in.modelParams().get(others.get(j)).number("density") * n);
            if (count <= 0) {
                cuts[j] = TopKCut.none(n);
                deltas[j] = null;
            } else if (count < n) {
                trimmed.add(j);
            }
        }
        int[] keep = new int[trimmed.size()];
        TaskVectors.Source[] selected = new TaskVectors.Source[trimmed.size()];
        for (int i = 0; i < keep.length; i++) {
            int j = trimmed.get(i);
            keep[i] = (int) (in.modelParams().get(others.get(j)).number("density") * n);
            selected[i] = deltas[j];
        }
        TopKCut[] found = TopK.select(n, keep, TaskVectors.values(base, selected));
        for (int i = 0; i < keep.length; i++) {
            cuts[trimmed.get(i)] = found[i];
        }
    }

    /** Without consensus: base + lambda * sum_j v_j, divided by sum_j w_j with {@code normalize}. */
    private static TaskVectors.Mix plainSum(boolean normalize, float lambda, float divisor) {
        return (result, v, sum, len) -> {
            if (normalize) {
                for (int t = 0; t < len; t++) {
                    result[t] = result[t] + lambda * (sum[t] / divisor);
                }
            } else {
                for (int t = 0; t < len; t++) {
                    result[t] = result[t] + lambda * sum[t];
                }
            }
        };
    }

    /**
     * TIES sign consensus: the elected sign is that of sum_j v_j (0 counts as +); the non-zero v_j of that sign
     * are summed, with {@code normalize} divided by the sum of their weights (1 where none agrees).
     */
    private static final class SignConsensus implements TaskVectors.Mix {

        private final float[] weights;
        private final boolean normalize;
        private final float lambda;
        private final float[] sign = new float[TaskVectors.BLOCK];
        private final float[] mixed = new float[TaskVectors.BLOCK];
        private final float[] div = new float[TaskVectors.BLOCK];

        SignConsensus(float[] weights, boolean normalize, float lambda) {
            this.weights = weights;
            this.normalize = normalize;
            this.lambda = lambda;
        }

        @Override
        public void block(float[] result, float[][] v, float[] sum, int len) {
            int k = v.length;
            if (VectorMath.finite(sum, len)) { // the election as min/max arithmetic, which vectorises
                VectorMath.electedSigns(sign, sum, len);
                for (int j = 0; j < k; j++) {
                    VectorMath.addAgreeing(mixed, div, j == 0, v[j], sign, weights[j], len);
                }
            } else { // NaN or infinite sums: the bit-level election, as the min/max form assumes finite sums
                java.util.Arrays.fill(mixed, 0, len, 0f);
                java.util.Arrays.fill(div, 0, len, 0f);
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
                    result[t] = result[t] + lambda * (mixed[t] / VectorMath.oneIfZero(div[t]));
                }
            } else {
                for (int t = 0; t < len; t++) {
                    result[t] = result[t] + lambda * mixed[t];
                }
            }
        }
    }
}
