package dev.amalgam.fusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.LlamaModel;
import java.util.List;

/**
 * A model under training: the loaded target, the parameters the optimizer updates, and how a forward pass sees
 * them. Two implementations: {@link FullFineTune} (every weight trains) and {@link LoraModel} (low-rank adapters on
 * chosen projections, base frozen).
 */
public interface TrainableModel extends AutoCloseable {

    /** The loaded model (its weights are the frozen base under LoRA). */
    LlamaModel base();

    /** The parameters the optimizer updates, in a fixed order. */
    List<TrainableParameter> parameters();

    /**
     * The model a forward pass of this step runs. Built inside the caller's {@code GradientCollector} so gradients
     * reach the trainable parameters. Close it with {@link #release(LlamaModel)}.
     */
    LlamaModel forwardModel(NDManager scope);

    /** Frees what {@link #forwardModel} built (nothing for full fine-tuning). */
    void release(LlamaModel forwardModel);

    /** Copies updated FP32 masters into the compute-type arrays the forward reads (a no-op in FP32). */
    void afterUpdate();

    /** A full weight by Hugging Face name, FP32, adapters merged in, on {@code scope}. */
    NDArray exportWeight(String name, NDManager scope);

    @Override
    void close();
}
