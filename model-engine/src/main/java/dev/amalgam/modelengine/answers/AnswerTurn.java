package dev.amalgam.modelengine.answers;

import dev.amalgam.modelengine.generate.FinishReason;

/**
 * The model's answer to one user turn.
 *
 * @param text the decoded answer, special tokens removed and surrounding whitespace stripped (Python's
 *             {@code str.strip}, as FastChat does)
 * @param tokens tokens generated (a final EOS included)
 * @param finishReason EOS, or LENGTH when {@code maxNewTokens} cut it short
 */
public record AnswerTurn(String text, int tokens, FinishReason finishReason) {
}
