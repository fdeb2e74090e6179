package dev.amalgam.modelengine.generate;

/**
 * The new tokens of one sequence (the prompt excluded; a final EOS included) and why it ended.
 *
 * @param tokens generated ids
 * @param finishReason EOS, LENGTH, or STOP (ended by a token listener)
 */
public record GeneratedSequence(int[] tokens, FinishReason finishReason) {
}
