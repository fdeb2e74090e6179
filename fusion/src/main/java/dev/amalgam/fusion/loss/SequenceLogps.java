package dev.amalgam.fusion.loss;

import ai.djl.ndarray.NDArray;

/**
 * Summed response log-probs of one micro-batch under one model, for the three responses of each WRPO record.
 * Each array is [batch] FP32; under the policy they are part of the autograd graph.
 *
 * @param sourceChosen log pi(y_ws | x): the best source-model response
 * @param targetChosen log pi(y_wt | x): the best of the target's own samples
 * @param rejected log pi(y_l | x): the worst of the target's own samples
 */
public record SequenceLogps(NDArray sourceChosen, NDArray targetChosen, NDArray rejected) {
}
