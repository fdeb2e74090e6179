package dev.amalgam.fusion.train;

import ai.djl.ndarray.NDArray;

/**
 * A parameter the optimizer updates.
 *
 * @param name Hugging Face style name (LoRA factors end in {@code .lora_A.weight} / {@code .lora_B.weight})
 * @param value the array the forward pass reads (compute type, gradient attached)
 * @param master the FP32 master copy the optimizer updates; the very same array as {@code value} in FP32 training
 */
public record TrainableParameter(String name, NDArray value, NDArray master) {

    /** Whether {@link #value} is a low-precision copy that must be refreshed from {@link #master} after updates. */
    public boolean hasSeparateMaster() {
        return value != master;
    }
}
