package dev.amalgam.modelengine.tiny;

import dev.amalgam.modelio.DType;

/**
 * Sizes of a random tiny checkpoint (the vocabulary is fixed by the byte-level tokenizer: 262 tokens).
 *
 * @param hiddenSize residual width
 * @param intermediateSize MLP width
 * @param numHiddenLayers decoder layers
 * @param numAttentionHeads query heads (divides hiddenSize)
 * @param numKeyValueHeads key/value heads (divides numAttentionHeads)
 * @param maxPositionEmbeddings context length written to config.json
 * @param dtype storage type of the weights (BF16 like real checkpoints, or F16/F32)
 */
public record TinySizes(int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
        int numKeyValueHeads, int maxPositionEmbeddings, DType dtype) {

    public TinySizes {
        if (hiddenSize <= 0 || intermediateSize <= 0 || numHiddenLayers <= 0 || numAttentionHeads <= 0
                || numKeyValueHeads <= 0 || maxPositionEmbeddings <= 0) {
            throw new IllegalArgumentException("tiny model sizes must be positive");
        }
        if (hiddenSize % numAttentionHeads != 0 || (hiddenSize / numAttentionHeads) % 2 != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " must split into an even head_dim over "
                    + numAttentionHeads + " heads");
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads must be a multiple of num_key_value_heads");
        }
        if (dtype != DType.BF16 && dtype != DType.F16 && dtype != DType.F32) {
            throw new IllegalArgumentException("tiny model dtype must be BF16, F16 or F32, got " + dtype);
        }
    }

    /** hidden 64, intermediate 128, 2 layers, 4 heads, 2 KV heads, 256 positions, BF16. */
    public static TinySizes defaults() {
        return new TinySizes(64, 128, 2, 4, 2, 256, DType.BF16);
    }
}
