package dev.amalgam.fusion.fusechat.repr;

/**
 * The on-disk layout of a representation DATASET (a directory), version 1; docs: fusion/README.md,
 * "Representation format".
 *
 * <ul>
 *   <li>{@value #META}: one JSON object: {@code format} ({@value #FORMAT}), {@code version} (1), {@code top_k},
 *       {@code vocab_size}, {@code samples}, {@code positions}, {@code byte_order} ("little_endian"), and where
 *       known {@code model}, {@code template_model}, {@code max_length}, {@code source} ("engine" or "import").
 *   <li>{@value #INDEX}: one JSON object per sample, in corpus order: {@code id}, {@code offset} (byte offset
 *       of the sample's first position in {@value #TOPK}), {@code length} (positions), {@code metric_ce}
 *       (number, or null when no token is learned), {@code input_ids}, {@code labels}.
 *   <li>{@value #TOPK}: per sample, per position, k float32 logits then k int32 ids, little-endian:
 *       {@code 8 * k} bytes a position; unused slots have id -1 and logit -Infinity.
 * </ul>
 */
public final class RepresentationFormat {

    public static final String FORMAT = "amalgam.fusechat.representations";
    public static final int VERSION = 1;
    public static final String META = "meta.json";
    public static final String INDEX = "representations.jsonl";
    public static final String TOPK = "topk.bin";

    private RepresentationFormat() {
    }

    /** Bytes one position takes in {@value #TOPK}. */
    public static long bytesPerPosition(int k) {
        return 8L * k;
    }
}
