package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;

/** Supplies a parameter by its Hugging Face name, already on the model's manager and in its compute type. */
@FunctionalInterface
public interface WeightSource {

    /**
     * @param name e.g. {@code model.layers.0.self_attn.q_proj.weight}
     * @param shape the shape the architecture expects; a source fails if the stored shape differs
     */
    NDArray load(String name, long[] shape);
}
