package dev.amalgam.fusion.train;

/**
 * Outcome of one optimizer step.
 *
 * @param loss the objective of the step (mean over its examples)
 * @param gradNorm global gradient norm before clipping
 * @param learningRate the rate the update used
 * @param applied false when the step was skipped (non-finite gradients)
 */
public record StepStats(double loss, double gradNorm, double learningRate, boolean applied) {
}
