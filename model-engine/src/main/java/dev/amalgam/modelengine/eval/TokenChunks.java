package dev.amalgam.modelengine.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * A token stream cut into evaluation sequences of one length (the remainder is dropped, as in BlockPruner's
 * calibration; a stream shorter than the length becomes one shorter chunk).
 *
 * @param chunks the sequences, all of length {@code seqLen} except a lone short one
 * @param seqLen requested sequence length
 */
public record TokenChunks(List<int[]> chunks, int seqLen) {

    public TokenChunks {
        chunks = List.copyOf(chunks);
    }

    /** Cuts {@code stream} into {@code seqLen}-token chunks. */
    public static TokenChunks of(int[] stream, int seqLen) {
        if (seqLen < 2) {
            throw new IllegalArgumentException("sequence length must be >= 2, got " + seqLen);
        }
        if (stream.length < 2) {
            throw new IllegalArgumentException("need at least 2 tokens to measure perplexity, got " + stream.length);
        }
        List<int[]> out = new ArrayList<>();
        for (int start = 0; start + seqLen <= stream.length; start += seqLen) {
            out.add(java.util.Arrays.copyOfRange(stream, start, start + seqLen));
        }
        if (out.isEmpty()) {
            out.add(stream.clone());
        }
        return new TokenChunks(out, seqLen);
    }

    /** Tokens that will be predicted (L - 1 per chunk). */
    public long predictedTokens() {
        long n = 0;
        for (int[] c : chunks) {
            n += c.length - 1;
        }
        return n;
    }
}
