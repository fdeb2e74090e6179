package dev.amalgam.fusion.fusechat.repr;

import dev.amalgam.fusion.fusechat.Representations;

/**
 * How a model is run over a corpus for its representations.
 *
 * @param topK logits kept per position (the authors: 10)
 * @param maxLength tokens kept per sample, the start kept (the authors: 2048)
 * @param batchSize the most samples per forward; a batch also stays under {@link #MAX_BATCH_LOGIT_BYTES} of FP32
 *     logits, so long samples of a large vocabulary run alone
 */
public record RepresentationSettings(int topK, int maxLength, int batchSize) {

    /** The largest [batch, length, vocab] FP32 logits a batched forward may produce (256 MiB). */
    public static final long MAX_BATCH_LOGIT_BYTES = 256L << 20;
    public static final int DEFAULT_MAX_LENGTH = 2048;
    public static final int DEFAULT_BATCH_SIZE = 4;
    public static final int MAX_TOP_K = 1024;
    public static final int MAX_BATCH_SIZE = 64;

    public RepresentationSettings {
        if (topK < 1 || topK > MAX_TOP_K) {
            throw new IllegalArgumentException("topK must be in [1, " + MAX_TOP_K + "], got " + topK);
        }
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2, got " + maxLength);
        }
        if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("batchSize must be in [1, " + MAX_BATCH_SIZE + "], got " + batchSize);
        }
    }

    /** The authors' settings: top-10, 2048 tokens; batches of {@value #DEFAULT_BATCH_SIZE}. */
    public static RepresentationSettings defaults() {
        return new RepresentationSettings(Representations.DEFAULT_TOP_K, DEFAULT_MAX_LENGTH, DEFAULT_BATCH_SIZE);
    }
}
