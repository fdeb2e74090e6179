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

    /**
     * Task arithmetic, and TIES without rescaling, read every input by range and write the result chunk by chunk
     * (no tensor-sized buffer); the random and per-row sparsifications work on whole task vectors.
     */
    @Override
    public boolean streams(TensorParams params) {
        return sparsification == null || (sparsification == Sparsification.MAGNITUDE && !params.bool("rescale"));
    }

    /**
     * Streamed, at most one tensor's worth per task vector: the window's key lists (all of a task vector's keys
     * when most of them tie at the threshold, such as many unchanged weights) or, after a sample that missed, the
     * task vector itself.
     */
    @Override
    public int bufferedTensors(TensorParams params, int inputs) {
        return streams(params) ? inputs - 1 : inputs + 2;
    }

    @Override
    public float[] merge(MergeInputs in) {
        if (streams(in.params())) {
            float[] result = new float[in.length()];
            merge(in, FloatSink.into(result));
            return result;
        }
        float[] base = in.base();
        int n = base.length;
        List<Integer> others = in.others();
        int k = others.size();
        float[][] deltas = new float[k][];
        float[] weights = new float[k];
        for (int j = 0; j < k; j++) {
            int m = others.get(j);
            TensorParams p = in.modelParams().get(m);
            weights[j] = (float) p.number("weight");
            float[] delta = in.scratch(m);
            VectorMath.subtractInto(delta, in.array(m), base);
            double density = p.number("density");
            if (density < 1) {
                sparsification.applyInPlace(delta, in.columns(), density, p.has("gamma") ? p.number("gamma") : 0,
                        p.has("epsilon") ? p.number("epsilon") : 0, in.params().bool("rescale"),
                        in.seed() * 31 + m);
            }
            deltas[j] = delta;
        }
        float[] out = in.scratch(in.baseIndex()); // element i of base is read before out[i] is written
        Mixer mixer = new Mixer(in.params(), weights, new TopKCut[k]);
        Chunks.forEach(n, (c, from, to) -> mixer.mix(c, from, to, 0, base, deltas, out));
        return out;
    }

    /**
     * The streamed form: a first pass over the inputs finds each task vector's top-k cut ({@link TopKWindow}),
     * the mixing pass applies it while it reads the inputs again; task vectors are computed per chunk and never
     * held whole (except on the rare fallback of {@link #taskVectorCuts}).
     */
    @Override
    public void merge(MergeInputs in, FloatSink sink) {
        if (!streams(in.params())) {
            MergeMethod.super.merge(in, sink);
            return;
        }
        int n = in.length();
        List<Integer> others = in.others();
        int k = others.size();
        float[] weights = new float[k];
        TopKCut[] cuts = new TopKCut[k]; // null: keep all
        int[] keep = new int[k]; // the top-k to find, 0 where nothing is to find
        boolean[] none = new boolean[k]; // the cut keeps nothing: the model is not even read
        for (int j = 0; j < k; j++) {
            TensorParams p = in.modelParams().get(others.get(j));
            weights[j] = (float) p.number("weight");
            double density = p.number("density");
            int count = (int) (density * n);
            if (sparsification != null && density < 1 && count < n) {
                if (count <= 0) {
                    cuts[j] = TopKCut.none(n);
                    none[j] = true;
                } else {
                    keep[j] = count;
                }
            }
        }
        taskVectorCuts(in, keep, cuts);
        Mixer mixer = new Mixer(in.params(), weights, cuts);
        FloatSource base = in.source(in.baseIndex());
        Chunks.forEach(n, (c, from, to) -> {
            float[][] buffers = Chunks.buffers(k + 2);
            float[] b = buffers[0];
            float[] out = buffers[1];
            float[][] d = java.util.Arrays.copyOfRange(buffers, 2, k + 2);
            int len = to - from;
            base.read(from, b, 0, len);
            for (int j = 0; j < k; j++) {
                if (!none[j]) {
                    taskVector(in.source(others.get(j)), b, from, len, d[j]);
                }
            }
            mixer.mix(c, from, to, from, b, d, out);
            sink.write(from, out, 0, len);
        });
    }

    /**
     * d[0, len) = x[from, from + len) - base[0, len), a piece of a task vector. Both arrays are indexed from 0:
     * C2 does not vectorise a loop whose arrays are indexed at different offsets (7x slower here).
     */
    private static void taskVector(FloatSource x, float[] base, int from, int len, float[] d) {
        x.read(from, d, 0, len); // one sequential read per chunk
        for (int t = 0; t < len; t++) {
            d[t] -= base[t];
        }
    }

    /** x[from, from + len) - base[from, from + len) in a new array, for the few small reads outside the passes. */
    private static float[] taskVector(FloatSource x, FloatSource base, int from, int len) {
        float[] b = new float[len];
        base.read(from, b, 0, len);
        float[] d = new float[len];
        taskVector(x, b, from, len, d);
        return d;
    }

    /**
     * Sets {@code cuts[j]} to the cut keeping the {@code keep[j]} largest magnitudes of task vector j, for each j
     * with keep[j] > 0: one pass over the chunks of all inputs records the keys around each sampled threshold
     * ({@link TopKWindow}). A tensor too small to sample, or a sample that missed, takes the histogram path on a
     * task vector computed whole.
     */
    private void taskVectorCuts(MergeInputs in, int[] keep, TopKCut[] cuts) {
        int n = in.length();
        FloatSource base = in.source(in.baseIndex());
        List<Integer> others = in.others();
        int k = keep.length;
        TopKWindow[] windows = new TopKWindow[k];
        boolean any = false;
        for (int j = 0; j < k; j++) {
            if (keep[j] > 0) {
                FloatSource x = in.source(others.get(j));
                windows[j] = TopKWindow.bracket(n, (double) keep[j] / n, (from, len, keys) -> {
                    float[] d = taskVector(x, base, from, len);
                    for (int t = 0; t < len; t++) {
                        keys[t] = TopK.key(d[t]);
                    }
                });
                any |= windows[j] != null;
            }
        }
        if (any) {
            Chunks.forEach(n, (c, from, to) -> {
                float[][] buffers = Chunks.buffers(2);
                float[] b = buffers[0];
                float[] d = buffers[1];
                base.read(from, b, 0, to - from);
                for (int j = 0; j < k; j++) {
                    if (windows[j] != null) {
                        taskVector(in.source(others.get(j)), b, from, to - from, d);
                        windows[j].record(c, d, 0, to - from);
                    }
                }
            });
        }
        for (int j = 0; j < k; j++) {
            if (keep[j] <= 0) {
                continue;
            }
            FloatSource x = in.source(others.get(j));
            cuts[j] = windows[j] == null ? null : windows[j].cut(n, keep[j], (from, to, bits, q) ->
                    from + TopK.equalScan(taskVector(x, base, from, to - from)).indexAfter(0, to - from, bits, q));
            if (cuts[j] == null) {
                float[] delta = new float[n];
                Chunks.forEach(n, (c, from, to) -> {
                    float[][] buffers = Chunks.buffers(2);
                    base.read(from, buffers[0], 0, to - from);
                    taskVector(x, buffers[0], from, to - from, buffers[1]);
                    System.arraycopy(buffers[1], 0, delta, from, to - from);
                });
                cuts[j] = TopK.cut(delta, keep[j], TopK.withHighHistogram(n, (from, to, h) -> {
                    for (int i = from; i < to; i++) {
                        h.add(i, delta[i]);
                    }
                }));
            }
        }
    }

    /**
     * The mixing step over one chunk, in blocks, model by model, so the inner loops are branch-free; the
     * per-element order of additions (model 0, 1, ...) is the same as a plain element-by-element loop. The arrays
     * hold the elements from index {@code off} on (the chunk's start for chunk buffers, 0 for whole tensors).
     * Each block is copied into block buffers and back, so every loop indexes all its arrays from 0: C2 does not
     * vectorise a loop over arrays indexed at different offsets, and the copies cost far less than scalar loops.
     */
    private final class Mixer {

        private final boolean normalize;
        private final float lambda;
        private final float plainDivisor;
        private final float[] weights;
        private final TopKCut[] cuts; // per model, the top-k cut to apply on the fly, or null

        Mixer(TensorParams params, float[] weights, TopKCut[] cuts) {
            this.normalize = params.bool("normalize");
            this.lambda = (float) params.number("lambda");
            float wsum = 0;
            for (float w : weights) {
                wsum += w;
            }
            this.plainDivisor = Math.abs(wsum) < 1e-8 ? 1 : wsum;
            this.weights = weights;
            this.cuts = cuts;
        }

        /** out = base + lambda * mix(deltas) over [from, to) of chunk c. */
        void mix(int c, int from, int to, int off, float[] base, float[][] deltas, float[] out) {
            int k = deltas.length;
            float[][] v = new float[k][BLOCK]; // w_j * (thinned d_j) of the block
            float[] sum = new float[BLOCK];
            float[] sign = new float[BLOCK];
            float[] mixed = new float[BLOCK];
            float[] div = new float[BLOCK];
            float[] result = new float[BLOCK]; // base + lambda * mix of the block
            for (int s0 = from; s0 < to; ) {
                int end = Math.min(to, s0 + BLOCK);
                for (TopKCut cut : cuts) { // a block never straddles a split, so each model has one limit in it
                    if (cut != null && cut.split()[c] > s0) {
                        end = Math.min(end, cut.split()[c]);
                    }
                }
                int len = end - s0;
                int a0 = s0 - off; // array index of s0
                for (int j = 0; j < k; j++) { // v_j and their sum
                    int limit = cuts[j] == null ? -1 : cuts[j].limit(c, s0);
                    VectorMath.loadWeighted(v[j], sum, j == 0, deltas[j], a0, len, limit, weights[j]);
                }
                System.arraycopy(base, a0, result, 0, len);
                if (!consensus) {
                    if (normalize) {
                        for (int t = 0; t < len; t++) {
                            result[t] = result[t] + lambda * (sum[t] / plainDivisor);
                        }
                    } else {
                        for (int t = 0; t < len; t++) {
                            result[t] = result[t] + lambda * sum[t];
                        }
                    }
                    System.arraycopy(result, 0, out, a0, len);
                    s0 = end;
                    continue;
                }
                // TIES election: the sign of the sum (0 counts as +); zeros never agree
                if (VectorMath.finite(sum, len)) {
                    VectorMath.electedSigns(sign, sum, len);
                    for (int j = 0; j < k; j++) {
                        VectorMath.addAgreeing(mixed, div, j == 0, v[j], sign, weights[j], len);
                    }
                } else { // NaN or infinite values: the bit-level election, as the min/max form assumes finite sums
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
                System.arraycopy(result, 0, out, a0, len);
                s0 = end;
            }
        }
    }
}
