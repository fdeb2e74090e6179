package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSource;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything one merge method needs to merge one tensor: the FP32 values of each input model (all the same
 * shape; vocabulary differences are resolved before), their per-model parameters, the global parameters and a
 * seed for the random methods.
 *
 * <p>The inputs are {@link FloatSource}s. Methods that need whole arrays call {@link #tensors()}, which widens
 * every input into the heap once (not thread-safe: call it from the thread that runs the method); streamed
 * methods ({@link MergeMethod#streams}) read ranges through {@link #source(int)} and never hold an input whole.
 */
public final class MergeInputs {

    private final String tensorName;
    private final long[] shape;
    private final List<FloatSource> sources;
    private final List<TensorParams> modelParams;
    private final int baseIndex;
    private final TensorParams params;
    private final long seed;
    private final float[][] arrays; // given, or widened on first use
    private final boolean owned;

    private MergeInputs(String tensorName, long[] shape, List<FloatSource> sources, List<float[]> arrays,
                        List<TensorParams> modelParams, int baseIndex, TensorParams params, long seed,
                        boolean owned) {
        if (sources.size() != modelParams.size()) {
            throw new IllegalArgumentException("tensors and modelParams differ in size");
        }
        for (FloatSource t : sources) {
            if (t.length() != sources.get(0).length()) {
                throw new IllegalArgumentException("inputs of " + tensorName + " differ in length");
            }
        }
        this.tensorName = tensorName;
        this.shape = shape;
        this.sources = List.copyOf(sources);
        this.arrays = arrays == null ? new float[sources.size()][] : arrays.toArray(float[][]::new);
        this.modelParams = modelParams;
        this.baseIndex = baseIndex;
        this.params = params;
        this.seed = seed;
        this.owned = owned;
    }

    /**
     * Inputs given as arrays.
     *
     * @param tensorName  output tensor name (for messages and for embedding detection)
     * @param shape       tensor shape, row-major
     * @param tensors     one array per input model, in config order; the base model (if any) among them
     * @param modelParams per-model parameters, parallel to {@code tensors}
     * @param baseIndex   index of the base model in {@code tensors}, or -1 when the method has no base
     * @param params      global (per-merge) parameters
     * @param seed        seed for this tensor (derived from the merge seed and the tensor name)
     * @param owned       true when the caller gives the arrays away: a method may then reuse them as scratch or
     *                    output space instead of allocating (tests that reuse arrays pass false)
     */
    public MergeInputs(String tensorName, long[] shape, List<float[]> tensors, List<TensorParams> modelParams,
                       int baseIndex, TensorParams params, long seed, boolean owned) {
        this(tensorName, shape, tensors.stream().map(FloatSource::of).toList(), List.copyOf(tensors), modelParams,
                baseIndex, params, seed, owned);
    }

    /** Inputs given as arrays the method must not modify. */
    public MergeInputs(String tensorName, long[] shape, List<float[]> tensors, List<TensorParams> modelParams,
                       int baseIndex, TensorParams params, long seed) {
        this(tensorName, shape, tensors, modelParams, baseIndex, params, seed, false);
    }

    /**
     * Inputs read on demand (memory-mapped checkpoint tensors). The method owns the arrays {@link #tensors()}
     * widens from them, and the arrays of {@link FloatSource#of} sources, which it may overwrite.
     */
    public static MergeInputs streamed(String tensorName, long[] shape, List<FloatSource> sources,
                                       List<TensorParams> modelParams, int baseIndex, TensorParams params,
                                       long seed) {
        return new MergeInputs(tensorName, shape, sources, null, modelParams, baseIndex, params, seed, true);
    }

    public String tensorName() {
        return tensorName;
    }

    public long[] shape() {
        return shape;
    }

    public List<TensorParams> modelParams() {
        return modelParams;
    }

    public int baseIndex() {
        return baseIndex;
    }

    public TensorParams params() {
        return params;
    }

    public long seed() {
        return seed;
    }

    /** Number of input models. */
    public int count() {
        return sources.size();
    }

    /** Input {@code index} as a source (no copy). */
    public FloatSource source(int index) {
        return sources.get(index);
    }

    /** Every input as an array, in config order; widened on first use when the inputs are streamed. */
    public List<float[]> tensors() {
        for (int i = 0; i < arrays.length; i++) {
            array(i);
        }
        return List.of(arrays);
    }

    /**
     * Input {@code index} as an array, widened on first use when the inputs are streamed (only this one: a
     * method that reads the others by range never widens them whole).
     */
    public float[] array(int index) {
        if (arrays[index] == null) {
            FloatSource s = sources.get(index);
            // an array source is handed over as it is (the executor's remapped embeddings): no second copy
            arrays[index] = s instanceof FloatSource.ArraySource as ? as.values() : s.toArray();
        }
        return arrays[index];
    }

    /** Input {@code index}'s array if the arrays are owned (to be overwritten), else a new array of the same size. */
    public float[] scratch(int index) {
        return owned ? array(index) : new float[length()];
    }

    /** Number of elements of the tensor. */
    public int length() {
        return sources.get(0).length();
    }

    /** The base tensor as an array; fails when there is none. */
    public float[] base() {
        if (baseIndex < 0) {
            throw new IllegalStateException("merge of " + tensorName + " has no base model");
        }
        return array(baseIndex);
    }

    /** Whether a base model is present. */
    public boolean hasBase() {
        return baseIndex >= 0;
    }

    /** Indices of the models that are not the base, in config order. */
    public List<Integer> others() {
        List<Integer> res = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            if (i != baseIndex) {
                res.add(i);
            }
        }
        return res;
    }

    /** Rows and columns when the tensor is viewed as a matrix over its last dimension (1-D: one row). */
    public int columns() {
        return shape.length == 0 ? 1 : (int) shape[shape.length - 1];
    }
}
