package dev.amalgam.merge.method;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything one merge method needs to merge one tensor: the widened FP32 values of each input model
 * (all the same shape; vocabulary differences are resolved before), their per-model parameters, the global
 * parameters and a seed for the random methods.
 *
 * @param tensorName  output tensor name (for messages and for embedding detection)
 * @param shape       tensor shape, row-major
 * @param tensors     one array per input model, in config order; the base model (if any) among them
 * @param modelParams per-model parameters, parallel to {@code tensors}
 * @param baseIndex   index of the base model in {@code tensors}, or -1 when the method has no base
 * @param params      global (per-merge) parameters
 * @param seed        seed for this tensor (derived from the merge seed and the tensor name)
 * @param owned       true when the caller gives the arrays away: a method may then reuse them as scratch or
 *                    output space instead of allocating (the executor does; tests that reuse arrays do not)
 */
public record MergeInputs(String tensorName, long[] shape, List<float[]> tensors, List<TensorParams> modelParams,
                          int baseIndex, TensorParams params, long seed, boolean owned) {

    /** Inputs the method must not modify. */
    public MergeInputs(String tensorName, long[] shape, List<float[]> tensors, List<TensorParams> modelParams,
                       int baseIndex, TensorParams params, long seed) {
        this(tensorName, shape, tensors, modelParams, baseIndex, params, seed, false);
    }

    public MergeInputs {
        if (tensors.size() != modelParams.size()) {
            throw new IllegalArgumentException("tensors and modelParams differ in size");
        }
        for (float[] t : tensors) {
            if (t.length != tensors.get(0).length) {
                throw new IllegalArgumentException("inputs of " + tensorName + " differ in length");
            }
        }
    }

    /** Input {@code index}'s array if the inputs are owned (to be overwritten), else a new array of the same size. */
    public float[] scratch(int index) {
        return owned ? tensors.get(index) : new float[length()];
    }

    /** Number of elements of the tensor. */
    public int length() {
        return tensors.get(0).length;
    }

    /** The base tensor; fails when there is none. */
    public float[] base() {
        if (baseIndex < 0) {
            throw new IllegalStateException("merge of " + tensorName + " has no base model");
        }
        return tensors.get(baseIndex);
    }

    /** Whether a base model is present. */
    public boolean hasBase() {
        return baseIndex >= 0;
    }

    /** Indices of the models that are not the base, in config order. */
    public List<Integer> others() {
        List<Integer> res = new ArrayList<>();
        for (int i = 0; i < tensors.size(); i++) {
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
