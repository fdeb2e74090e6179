package dev.amalgam.modelengine.eval;

/**
 * Perplexity of a model over a token set.
 *
 * @param perplexity exp(totalNll / tokens)
 * @param tokens predicted tokens (each chunk of length L predicts L - 1)
 * @param totalNll summed negative log-likelihood in nats
 * @param chunks sequences evaluated
 */
public record PerplexityResult(double perplexity, long tokens, double totalNll, int chunks) {
}
