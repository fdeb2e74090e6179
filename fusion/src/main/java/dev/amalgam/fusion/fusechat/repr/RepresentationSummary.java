package dev.amalgam.fusion.fusechat.repr;

/**
 * What a representation run wrote.
 *
 * @param samples samples written
 * @param positions token positions written (the sum of the samples' lengths)
 * @param topK slots per position
 * @param vocabSize the model's tokenizer length, the bound of every stored id
 * @param unsupervisedSamples samples with no learned token (metric_ce null; the authors drop them before training)
 * @param meanMetricCe the mean of the finite metric_ce values, NaN when there is none
 */
public record RepresentationSummary(long samples, long positions, int topK, int vocabSize, long unsupervisedSamples,
                                    double meanMetricCe) {
}
