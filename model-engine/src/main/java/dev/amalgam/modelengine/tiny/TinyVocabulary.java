package dev.amalgam.modelengine.tiny;

import java.util.Locale;

/**
 * The tokenizer of a tiny model. Both have 262 ids (256 byte-level ones, then the six special tokens) and encode any
 * UTF-8 text; they differ in what the ids mean, so two tiny models of different vocabularies can be made, as
 * FuseChat's pivot and sources have.
 */
public enum TinyVocabulary {
    /** One token a byte, id = byte value, no merges. */
    BYTES,
    /**
     * Byte-level BPE with 13 merges of common English pairs ("Ġt", "he", "Ġthe", "in", "er", "an", "Ġa", "on", "re",
     * "Ġs", "en", "at", "or") in the id slots of the 13 bytes UTF-8 never uses; the other ids as in {@link #BYTES}.
     */
    BPE;

    /** {@code bytes} or {@code bpe}, in any letter case. */
    public static TinyVocabulary fromName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "bytes" -> BYTES;
            case "bpe" -> BPE;
            default -> throw new IllegalArgumentException("unknown tokenizer '" + name + "': bytes or bpe");
        };
    }
}
