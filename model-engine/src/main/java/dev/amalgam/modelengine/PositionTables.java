package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;

/**
 * What the attention blocks need to know about positions, for callers that run the decoder block by block
 * ({@link LlamaModel#positionTables}, {@link LlamaModel#attentionBlock}).
 *
 * @param cos  rotary cosines [batch or 1, 1, seq, headDim], in the compute dtype
 * @param sin  rotary sines, same shape
 * @param bias additive FP32 attention bias [batch or 1, 1, seq, seq]: 0 where a query may attend to a key, -1e9
 *             elsewhere (causal, and Mistral's sliding window)
 */
public record PositionTables(NDArray cos, NDArray sin, NDArray bias) {
}
