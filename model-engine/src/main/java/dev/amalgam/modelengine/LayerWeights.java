package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;

/**
 * Parameters of one decoder layer, named and shaped as in Hugging Face checkpoints ({@code [out, in]} matrices).
 * Bias fields are null when the architecture has none.
 *
 * @param inputLayernorm [hidden]
 * @param qProj [heads * headDim, hidden]
 * @param qBias [heads * headDim] or null
 * @param kProj [kvHeads * headDim, hidden]
 * @param kBias [kvHeads * headDim] or null
 * @param vProj [kvHeads * headDim, hidden]
 * @param vBias [kvHeads * headDim] or null
 * @param oProj [hidden, heads * headDim]
 * @param oBias [hidden] or null
 * @param postAttentionLayernorm [hidden]
 * @param gateProj [intermediate, hidden]
 * @param gateBias [intermediate] or null
 * @param upProj [intermediate, hidden]
 * @param upBias [intermediate] or null
 * @param downProj [hidden, intermediate]
 * @param downBias [hidden] or null
 */
public record LayerWeights(NDArray inputLayernorm, NDArray qProj, NDArray qBias, NDArray kProj, NDArray kBias,
        NDArray vProj, NDArray vBias, NDArray oProj, NDArray oBias, NDArray postAttentionLayernorm,
        NDArray gateProj, NDArray gateBias, NDArray upProj, NDArray upBias, NDArray downProj, NDArray downBias) {
}
