package dev.amalgam.pruning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import dev.amalgam.modelengine.LayerWeights;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.LlamaWeights;
import dev.amalgam.modelengine.RopeScaling;
import dev.amalgam.modelengine.eval.TokenChunks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The decoder one residual block at a time over a fixed calibration set, so a search can start a forward at any
 * block from a stored hidden state. The engine's {@code LlamaModel.forward} runs whole passes only; this class
 * repeats its arithmetic (same operations in the same order, Hugging Face semantics) for unpadded, equal-length
 * calibration chunks: causal mask (and Mistral's sliding window), positions 0..len-1.
 *
 * <p>Positions: block {@code p} is attention of layer {@code p / 2} when even, its MLP when odd; the hidden state
 * "at position p" is the input of block p, and position {@code 2L} is the input of the final norm.
 */
final class BlockRunner implements AutoCloseable {

    private static final float MASKED = -1e9f; // the engine's additive bias for a masked score

    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final DataType computeType;
    private final NDManager manager; // ids, targets, rotary tables and masks of every batch
    private final List<Batch> batches = new ArrayList<>();
    private final long predictedTokens;
    private long blockForwards;

    /** One batch of calibration chunks and its constant tensors. */
    private record Batch(NDArray ids, NDArray targets, NDArray cos, NDArray sin, NDArray bias) {
    }

    BlockRunner(LlamaModel model, TokenChunks data, int batchSize) {
        this.config = model.config();
        this.weights = model.weights();
        this.computeType = model.options().computeType();
        this.manager = model.manager().newSubManager();
        float[] invFreq = inverseFrequencies(config);
        Map<Integer, NDArray[]> byLength = new HashMap<>(); // batches of one length share them
        List<int[]> chunks = data.chunks();
        for (int start = 0; start < chunks.size(); start += batchSize) {
            List<int[]> part = chunks.subList(start, Math.min(chunks.size(), start + batchSize));
            int len = part.get(0).length;
            long[][] ids = new long[part.size()][];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = Arrays.stream(part.get(i)).asLongStream().toArray();
                for (long id : ids[i]) {
                    if (id < 0 || id >= config.vocabSize()) {
                        throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, "
                                + config.vocabSize() + ")");
                    }
                }
            }
            NDArray idArray = manager.create(ids); // [b, len]
            NDArray targets = idArray.get(":, 1:").reshape(ids.length, len - 1, 1); // [b, len-1, 1]
            NDArray[] tables = byLength.computeIfAbsent(len, n -> positionTables(n, invFreq));
            batches.add(new Batch(idArray, targets, tables[0], tables[1], tables[2]));
        }
        this.predictedTokens = data.predictedTokens();
    }

    /** cos, sin [1, 1, len, headDim] for positions 0..len-1 and the additive causal bias [1, 1, len, len]. */
    private NDArray[] positionTables(int len, float[] invFreq) {
        NDArray positions = manager.arange(0, len, 1, DataType.FLOAT32).reshape(1, len); // [1, len]
        NDArray angles = positions.expandDims(2).mul(manager.create(invFreq)); // [1, len, d/2]
        NDArray emb = NDArrays.concat(new NDList(angles, angles), -1).expandDims(1); // [1, 1, len, d]
        NDArray qPos = manager.arange(0, len, 1, DataType.FLOAT32).reshape(len, 1);
        NDArray kPos = manager.arange(0, len, 1, DataType.FLOAT32).reshape(1, len);
        NDArray allowed = kPos.lte(qPos);
        if (config.slidingWindow() != null) {
            allowed = allowed.logicalAnd(qPos.sub(kPos).lt(config.slidingWindow()));
        }
        // 0 where allowed, -1e9 elsewhere, as the engine's attention bias.
        NDArray bias = allowed.reshape(1, 1, len, len).toType(DataType.FLOAT32, false).sub(1).mul(-MASKED);
        return new NDArray[] {emb.cos().toType(computeType, false), emb.sin().toType(computeType, false), bias};
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
        NDArray ids = batches.get(b).ids();
        NDArray x = ids.getNDArrayInternal().embedding(ids, weights.embedTokens, SparseFormat.DENSE).singletonOrThrow();
        x.attach(scope);
        return x;
    }

    /** {@code x + f(x)} for the block at {@code position}, owned by {@code scope}; x is left as it was. */
    NDArray apply(NDArray x, int position, int b, NDManager scope) {
        blockForwards++;
        Block block = Block.atPosition(position);
        LayerWeights w = weights.layers.get(block.layer());
        try (NDManager tmp = scope.newSubManager()) {
            x.tempAttach(tmp); // temporaries of the branch are allocated in tmp; x returns to its manager after
            NDArray f = block.type() == BlockType.ATTENTION ? attention(x, w, batches.get(b)) : mlp(x, w);
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
            NDArray last = rmsNorm(x, weights.norm); // [b, len, hidden]
            NDArray targets = batches.get(b).targets(); // [b, len-1, 1]
            double nll = 0;
            for (long r = 0; r < last.getShape().get(0); r++) {
                try (NDManager row = tmp.newSubManager()) {
                    NDArray h = last.get(new NDIndex("{}:{}", r, r + 1)); // [1, len, hidden]
                    h.attach(row);
                    NDArray t = targets.get(new NDIndex("{}:{}", r, r + 1)); // [1, len-1, 1]
                    t.attach(row);
                    NDArray logits = Linear.linear(h, weights.lmHead).singletonOrThrow().toType(DataType.FLOAT32, false);
                    NDArray picked = logits.get(":, :-1, :").logSoftmax(-1).gather(t, 2); // [1, len-1, 1]
                    for (float lp : picked.toFloatArray()) {
                        nll -= lp; // summed in the engine's order (Perplexity.evaluate), in double
                    }
                }
            }
            return nll;
        }
    }

    // Attention block: InputNorm, q/k/v, rotary, grouped-query causal attention, o_proj (as LlamaModel).
    private NDArray attention(NDArray x, LayerWeights w, Batch batch) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int d = config.headDim();
        NDArray h = rmsNorm(x, w.inputLayernorm());
        // [b, t, heads*d] -> [b, t, heads, d] -> [b, heads, t, d]
        NDArray q = Linear.linear(h, w.qProj(), w.qBias()).singletonOrThrow().reshape(b, t, heads, d).transpose(0, 2, 1, 3);
        NDArray k = Linear.linear(h, w.kProj(), w.kBias()).singletonOrThrow().reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        NDArray v = Linear.linear(h, w.vProj(), w.vBias()).singletonOrThrow().reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        q = rotate(q, batch);
        k = rotate(k, batch);
        int group = config.groupSize();
        // GQA: [b, heads, t, d] -> [b, kvHeads, group*t, d]
        NDArray qg = q.mul(1.0 / Math.sqrt(d)).reshape(b, kvHeads, (long) group * t, d);
        NDArray scores = qg.matMul(k.transpose(0, 1, 3, 2)).reshape(b, heads, t, t).toType(DataType.FLOAT32, false);
        NDArray probs = scores.add(batch.bias()).softmax(-1).toType(computeType, false);
        // [b, kvHeads, group*t, d] -> [b, heads, t, d] -> [b, t, heads*d]
        NDArray ctx = probs.reshape(b, kvHeads, (long) group * t, t).matMul(v)
                .reshape(b, heads, t, d).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * d);
        return Linear.linear(ctx, w.oProj(), w.oBias()).singletonOrThrow();
    }

    // MLP block: PostAttnNorm, down(silu(gate(h)) * up(h)).
    private NDArray mlp(NDArray x, LayerWeights w) {
        NDArray h = rmsNorm(x, w.postAttentionLayernorm());
        NDArray gate = Linear.linear(h, w.gateProj(), w.gateBias()).singletonOrThrow();
        NDArray up = Linear.linear(h, w.upProj(), w.upBias()).singletonOrThrow();
        NDArray act = gate.mul(Activation.sigmoid(gate)).mul(up);
        return Linear.linear(act, w.downProj(), w.downBias()).singletonOrThrow();
    }

    // RMSNorm in FP32, cast back, times the weight.
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray xf = x.toType(DataType.FLOAT32, false);
        NDArray rms = xf.square().mean(new int[] {-1}, true).add(config.rmsNormEps()).sqrt();
        return xf.div(rms).toType(computeType, false).mul(weight);
    }

    // x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1].
    private NDArray rotate(NDArray x, Batch batch) {
        long half = config.headDim() / 2;
        NDArray x1 = x.get(new NDIndex("..., :{}", half));
        NDArray x2 = x.get(new NDIndex("..., {}:", half));
        NDArray rotated = NDArrays.concat(new NDList(x2.neg(), x1), -1);
        return x.mul(batch.cos()).add(rotated.mul(batch.sin()));
    }

    /**
     * inv_freq of Hugging Face's Llama family with rope scaling, rounded to FP32. A copy of the engine's
     * package-private {@code RotaryEmbedding} (the engine does not expose it).
     */
    static float[] inverseFrequencies(LlamaConfig c) {
        int d = c.headDim();
        double[] inv = new double[d / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / d);
        }
        RopeScaling s = c.ropeScaling();
        if (s != null) {
            for (int i = 0; i < inv.length; i++) {
                inv[i] = scaled(s, inv[i]);
            }
        }
        float[] out = new float[inv.length];
        for (int i = 0; i < inv.length; i++) {
            out[i] = (float) inv[i];
        }
        return out;
    }

    private static double scaled(RopeScaling s, double inv) {
        if (s.type().equals("linear")) {
            return inv / s.factor();
        }
        double lowFreqWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highFreqWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        double wavelen = 2 * Math.PI / inv;
        if (wavelen < highFreqWavelen) {
            return inv;
        }
        if (wavelen > lowFreqWavelen) {
            return inv / s.factor();
        }
        double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                / (s.highFreqFactor() - s.lowFreqFactor());
        return (1 - smooth) * inv / s.factor() + smooth * inv;
    }

    @Override
    public void close() {
        manager.close();
    }
}
