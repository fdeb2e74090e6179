package dev.amalgam.pruning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.PositionTables;
import dev.amalgam.modelengine.eval.TokenChunks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The decoder one residual block at a time over a fixed calibration set, so a search can start a forward at any
 * block from a stored hidden state. Every step is the engine's own: the token-id check
 * ({@link LlamaModel#checkTokenIds}), the embedding ({@link LlamaModel#embed}), the blocks
 * ({@link LlamaModel#attentionBlock}, {@link LlamaModel#mlpBlock}), the final norm and the head
 * ({@link LlamaModel#finalNorm}, {@link LlamaModel#head}), run on unpadded, equal-length calibration chunks at
 * positions 0..len-1.
 *
 * <p>Positions: block {@code p} is attention of layer {@code p / 2} when even, its MLP when odd; the hidden state
 * "at position p" is the input of block p, and position {@code 2L} is the input of the final norm.
 */
final class BlockRunner implements AutoCloseable {

    private final LlamaModel model;
    private final LlamaConfig config;
    private final NDManager manager; // ids, targets and position tables of every batch
    private final List<Batch> batches = new ArrayList<>();
    private final long predictedTokens;
    private long blockForwards;

    /** One batch of calibration chunks and its constant tensors. */
    private record Batch(NDArray ids, NDArray targets, PositionTables tables) {
    }

    BlockRunner(LlamaModel model, TokenChunks data, int batchSize) {
        this.model = model;
        this.config = model.config();
        this.manager = model.manager().newSubManager();
        Map<Integer, PositionTables> byLength = new HashMap<>(); // batches of one length share them
        List<int[]> chunks = data.chunks();
        for (int start = 0; start < chunks.size(); start += batchSize) {
            List<int[]> part = chunks.subList(start, Math.min(chunks.size(), start + batchSize));
            int len = part.get(0).length;
            long[][] ids = new long[part.size()][];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = Arrays.stream(part.get(i)).asLongStream().toArray();
                model.checkTokenIds(ids[i]);
            }
            NDArray idArray = manager.create(ids); // [b, len]
            NDArray targets = idArray.get(":, 1:").reshape(ids.length, len - 1, 1); // [b, len-1, 1]
            PositionTables tables = byLength.computeIfAbsent(len, n -> model.positionTables(manager, n));
            batches.add(new Batch(idArray, targets, tables));
        }
        this.predictedTokens = data.predictedTokens();
    }

    /** Parent for the callers' per-forward managers (on the model's device). */
    NDManager scopeParent() {
        return manager;
    }

    int batchCount() {
        return batches.size();
    }

    /** Number of residual blocks, 2L; also the position of the final hidden state. */
    int positions() {
        return 2 * config.numHiddenLayers();
    }

    long predictedTokens() {
        return predictedTokens;
    }

    /** Residual-block forwards run so far (the search's unit of cost). */
    long blockForwards() {
        return blockForwards;
    }

    /** Token embeddings [b, len, hidden] of batch {@code b}, owned by {@code scope}. */
    NDArray embed(int b, NDManager scope) {
        NDArray x = model.embed(batches.get(b).ids());
        x.attach(scope);
        return x;
    }

    /** {@code x + f(x)} for the block at {@code position}, owned by {@code scope}; x is left as it was. */
    NDArray apply(NDArray x, int position, int b, NDManager scope) {
        blockForwards++;
        Block block = Block.atPosition(position);
        try (NDManager tmp = scope.newSubManager()) {
            x.tempAttach(tmp); // temporaries of the branch are allocated in tmp; x returns to its manager after
            NDArray f = block.type() == BlockType.ATTENTION
                    ? model.attentionBlock(x, block.layer(), batches.get(b).tables())
                    : model.mlpBlock(x, block.layer());
            NDArray out = x.add(f);
            out.attach(scope);
            return out;
        }
    }

    /** The hidden state after both blocks of {@code layer} (the layer's output), owned by {@code scope}. */
    NDArray applyLayer(NDArray x, int layer, int b, NDManager scope) {
        NDArray mid = apply(x, 2 * layer, b, scope);
        NDArray out = apply(mid, 2 * layer + 1, b, scope);
        mid.close();
        return out;
    }

    /**
     * Summed next-token NLL (nats) of batch {@code b} given its final hidden state (before the final norm). The
     * head runs one sequence at a time, so the FP32 logits peak at seq x vocab, not batch x seq x vocab.
     */
    double nll(NDArray x, int b) {
        try (NDManager tmp = manager.newSubManager()) {
            x.tempAttach(tmp);
            NDArray last = model.finalNorm(x); // [b, len, hidden]
            NDArray targets = batches.get(b).targets(); // [b, len-1, 1]
            double nll = 0;
            for (long r = 0; r < last.getShape().get(0); r++) {
                try (NDManager row = tmp.newSubManager()) {
                    NDArray h = last.get(new NDIndex("{}:{}", r, r + 1)); // [1, len, hidden]
                    h.attach(row);
                    NDArray t = targets.get(new NDIndex("{}:{}", r, r + 1)); // [1, len-1, 1]
                    t.attach(row);
                    NDArray logits = model.head(h); // FP32
                    NDArray picked = logits.get(":, :-1, :").logSoftmax(-1).gather(t, 2); // [1, len-1, 1]
                    for (float lp : picked.toFloatArray()) {
                        nll -= lp; // summed in the engine's order (Perplexity.evaluate), in double
                    }
                }
            }
            return nll;
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
