package dev.amalgam.fusion.loss;

import ai.djl.ndarray.NDArray;

/**
 * Per-example losses and beta-scaled implicit rewards r(y) = beta * (log pi(y) - log pi_ref(y)) of one micro-batch
 * (for SimPO, r(y) = beta * mean token log pi(y)). All arrays are [batch] FP32.
 *
 * @param losses the loss of each example (the training objective is their mean)
 * @param chosenRewards reward of the chosen side as the loss sees it (alpha-weighted for WRPO)
 * @param sourceChosenRewards reward of y_ws
 * @param targetChosenRewards reward of y_wt
 * @param rejectedRewards reward of y_l
 */
public record LossOutput(NDArray losses, NDArray chosenRewards, NDArray sourceChosenRewards,
        NDArray targetChosenRewards, NDArray rejectedRewards) {
}
