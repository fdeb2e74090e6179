package dev.amalgam.pruning;

import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.ModelHead;
import java.util.Collection;

/**
 * Parameter arithmetic of docs/algorithms.md, section 2, from the config alone: a block counts its projections, their
 * biases and its own norm; the total counts embeddings, lm_head (once when tied), the final norm and every layer.
 *
 * <pre>{@code
 * ParameterCounts p = ParameterCounts.of(LlamaConfig.read(dir.resolve("config.json")));
 * double ratio = p.ratio(List.of(Block.attention(3), Block.mlp(7)));  // 1 - params(pruned) / params(dense)
 * }</pre>
 *
 * @param total parameters of the dense model
 * @param attentionBlock q, k, v, o projections (and biases) plus input_layernorm
 * @param mlpBlock gate, up, down projections (and biases) plus post_attention_layernorm
 * @param numLayers decoder layers
 */
public record ParameterCounts(long total, long attentionBlock, long mlpBlock, int numLayers) {

    /** Counts for a Llama-family config. */
    public static ParameterCounts of(LlamaConfig c) {
        long h = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        long inter = c.intermediateSize();
        long attention = q * h + 2 * kv * h + h * q + h;
        if (c.qkvBias()) {
            attention += q + 2 * kv;
        }
        if (c.oBias()) {
            attention += h;
        }
        long mlp = 3 * inter * h + h;
        if (c.mlpBias()) {
            mlp += 2 * inter + h;
        }
        long embed = (long) c.vocabSize() * h;
        long head = c.head() == ModelHead.SEQUENCE_CLASSIFICATION ? (long) c.numLabels() * h
                : c.tieWordEmbeddings() ? 0 : embed;
        long total = embed + head + h + c.numHiddenLayers() * (attention + mlp);
        return new ParameterCounts(total, attention, mlp, c.numHiddenLayers());
    }

    /** Parameters of one block. */
    public long of(Block block) {
        return block.type() == BlockType.ATTENTION ? attentionBlock : mlpBlock;
    }

    /** Parameters of the model with {@code removed} gone. */
    public long remaining(Collection<Block> removed) {
        long n = total;
        for (Block b : removed) {
            n -= of(b);
        }
        return n;
    }

    /** Pruning ratio {@code 1 - params(pruned) / params(dense)}. */
    public double ratio(Collection<Block> removed) {
        return 1.0 - (double) remaining(removed) / total;
    }
}
