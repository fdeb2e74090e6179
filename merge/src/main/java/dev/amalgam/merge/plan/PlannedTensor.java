package dev.amalgam.merge.plan;

import dev.amalgam.merge.method.TensorParams;
import dev.amalgam.modelio.DType;
import java.util.List;

/**
 * One output tensor and how to compute it.
 *
 * @param name        output tensor name
 * @param shape       output shape
 * @param dtype       output dtype
 * @param merged      false for non-float tensors, copied raw from the first input
 * @param inputs      one per input model, the base among them
 * @param baseIndex   index of the base in inputs, or -1
 * @param params      global parameters resolved for this tensor
 * @param modelParams per-input parameters resolved for this tensor
 * @param seed        seed for this tensor
 */
public record PlannedTensor(String name, long[] shape, DType dtype, boolean merged, List<TensorInput> inputs,
                            int baseIndex, TensorParams params, List<TensorParams> modelParams, long seed) {

    /** Number of elements. */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
