package dev.amalgam.fusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.LlamaModel;

/**
 * The loss of one micro-batch, already divided by the number of examples in the whole optimizer step, so summing
 * the gradients of all micro-batches gives the gradient of the step's mean loss (gradient accumulation).
 *
 * @param <T> the micro-batch type
 */
@FunctionalInterface
public interface MicroObjective<T> {

    /** A scalar loss in the autograd graph of {@code model}; temporaries on {@code scope}. */
    NDArray loss(LlamaModel model, T microBatch, NDManager scope);
}
