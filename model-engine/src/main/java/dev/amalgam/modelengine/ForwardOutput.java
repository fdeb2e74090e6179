package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Result of a forward pass; the arrays belong to the manager of the caller's input ids.
 *
 * @param logits [batch, seq - logitsFrom, vocab] FP32 next-token logits for a causal LM, or [batch, seq - logitsFrom,
 *     numLabels] FP32 per-position scores for a sequence-classification model; null when no position was asked for
 * @param lastHiddenState [batch, seq, hidden] after the final norm
 * @param hiddenStates empty unless requested; else numLayers + 1 arrays [batch, seq, hidden]: the embeddings,
 *     then the residual stream after each layer (before the final norm, unlike Hugging Face's last entry)
 */
public record ForwardOutput(NDArray logits, NDArray lastHiddenState, List<NDArray> hiddenStates) {
}
