package dev.amalgam.modelengine.generate;

/**
 * A decoded completion.
 *
 * @param text the completion without special tokens
 * @param tokens generated ids (prompt excluded, final EOS included)
 * @param finishReason EOS, LENGTH, or STOP (ended by a token listener)
 */
public record Generation(String text, int[] tokens, FinishReason finishReason) {
}
