package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import java.util.ArrayList;
import java.util.List;

/**
 * A Llama-family decoder (Llama 2/3, Mistral, Qwen2) on DJL's PyTorch engine, with Hugging Face semantics.
 * Every residual block can be skipped through a {@link BlockMask}; batches may be padded on either side
 * (positions follow the attention mask, as in Hugging Face generation). Built only from differentiable NDArray
 * operations, so a forward inside DJL's {@code GradientCollector} back-propagates into the weights.
 *
 * <pre>{@code
 * try (LlamaModel model = CheckpointLoader.load(dir, EngineOptions.cpu());
 *      NDManager scratch = model.manager().newSubManager()) {
 *     NDArray ids = scratch.create(new long[][] {{1, 42, 7}});
 *     NDArray logits = model.logits(ids, null, BlockMask.none().skipAttention(2)); // [1, 3, vocab]
 * }
 * }</pre>
 *
 * <p>Intermediates live in per-block child managers and are freed as soon as the block is done; outputs are
 * attached to the manager of the input ids.
 */
public final class LlamaModel implements AutoCloseable {

    private static final float MASKED = -1e9f; // additive bias of a masked score; finite so empty rows stay NaN-free

    private final LlamaConfig config;
    private final EngineOptions options;
    private final NDManager manager;
    private final LlamaWeights weights;
    private final NDArray invFreq; // [headDim / 2] FP32

    /**
     * @param manager owns {@code weights}; the model takes ownership and closes it
     */
    public LlamaModel(LlamaConfig config, EngineOptions options, NDManager manager, LlamaWeights weights) {
        this.config = config;
        this.options = options;
        this.manager = manager;
        this.weights = weights;
        float[] inv = RotaryEmbedding.inverseFrequencies(config);
        this.invFreq = manager.create(inv);
    }

    public LlamaConfig config() {
        return config;
    }

    public EngineOptions options() {
        return options;
    }

    /** The manager owning the weights; create per-call managers as its children. */
    public NDManager manager() {
        return manager;
    }

    public LlamaWeights weights() {
        return weights;
    }

    /** A fresh, empty KV cache for a batch of {@code batchSize} sequences decoded with {@code blocks}. */
    public KvCache newCache(long batchSize, BlockMask blocks) {
        return newCache(batchSize, blocks, 0);
    }

    /** A KV cache with room for {@code capacity} positions allocated up front (it still grows if exceeded). */
    public KvCache newCache(long batchSize, BlockMask blocks, long capacity) {
        return new KvCache(manager, config.numHiddenLayers(), batchSize, blocks, capacity);
    }

    /** Next-token logits [batch, seq, vocab] (FP32) of a batch without cache. */
    public NDArray logits(NDArray inputIds, NDArray attentionMask, BlockMask blocks) {
        return forward(inputIds, attentionMask, blocks, null, false).logits();
    }

    /**
     * The forward pass.
     *
     * @param inputIds [batch, seq] token ids (any integer type, any device)
     * @param attentionMask [batch, seq], 1 for real tokens and 0 for padding; null means all ones
     * @param blocks residual blocks to skip
     * @param cache null, or a cache that already holds the previous positions and receives these
     * @param outputHiddenStates whether to return the residual stream after every layer
     */
    public ForwardOutput forward(NDArray inputIds, NDArray attentionMask, BlockMask blocks, KvCache cache,
            boolean outputHiddenStates) {
        return forward(inputIds, attentionMask, blocks, cache, outputHiddenStates, 0);
    }

    /**
     * The forward pass, with the head applied only to positions {@code [logitsFrom, seq)}: the last position for
     * sampling, the response part for log-probs, none ({@code logitsFrom == seq}, logits null) for hidden states.
     * With a large vocabulary the head's output is the biggest array of a forward, so this saves most memory.
     */
    public ForwardOutput forward(NDArray inputIds, NDArray attentionMask, BlockMask blocks, KvCache cache,
            boolean outputHiddenStates, long logitsFrom) {
        Shape shape = inputIds.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("input ids must be [batch, seq], got " + shape);
        }
        blocks.validate(config.numHiddenLayers());
        long batch = shape.get(0);
        long seq = shape.get(1);
        if (logitsFrom < 0 || logitsFrom > seq) {
            throw new IllegalArgumentException("logitsFrom must be in [0, " + seq + "], got " + logitsFrom);
        }
        if (cache != null) {
            cache.checkUsableWith(blocks, batch);
        }
        int past = cache == null ? 0 : cache.length();
        NDManager caller = inputIds.getManager();
        try (NDManager scope = manager.newSubManager()) {
            // Inputs copied onto the model's device, inside the call's scope.
            long[] idValues = longs(inputIds);
            checkTokenIds(idValues);
            // PyTorch-owned: the embedding keeps the ids for backward, after this scope has closed (OwnedArrays)
            NDArray ids = OwnedArrays.own(scope.create(idValues, shape));
            NDArray stepMask = attentionMask == null ? scope.ones(shape, DataType.FLOAT32)
                    : scope.create(longs(attentionMask), shape).toType(DataType.FLOAT32, false);
            NDArray fullMask = stepMask;
            if (cache != null && cache.mask() != null) {
                fullMask = NDArrays.concat(new NDList(cache.mask(), stepMask), 1); // [batch, past + seq]
                fullMask.attach(scope);
            }
            NDArray[] cosSin = rotary(fullMask, past);
            NDArray bias = attentionBias(scope, fullMask, past, seq); // [batch, 1, seq, past + seq]

            // Token embeddings [batch, seq, hidden].
            NDArray x = embed(ids);
            List<NDArray> hidden = new ArrayList<>();
            if (outputHiddenStates) {
                hidden.add(x);
            }
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                LayerWeights w = weights.layers.get(i);
                int layer = i;
                if (!blocks.skipsAttention(i)) {
                    x = residual(scope, x, !outputHiddenStates, h -> attention(h, w, cosSin, bias, cache, layer));
                }
                if (!blocks.skipsMlp(i)) {
                    x = residual(scope, x, !outputHiddenStates, h -> mlp(h, w));
                }
                if (outputHiddenStates) {
                    hidden.add(x);
                }
            }
            if (cache != null) {
                cache.advance(stepMask, (int) seq);
            }
            // Final norm, then the head (lm_head, tied embedding, or score) in FP32.
            NDArray last = rmsNorm(x, weights.norm);
            NDArray logits = null;
            if (logitsFrom < seq) {
                NDArray tail = logitsFrom == 0 ? last : last.get(new NDIndex(":, {}:", logitsFrom)); // [b, seq - from, h]
                logits = head(tail);
                logits.attach(caller);
            }
            last.attach(caller);
            hidden.forEach(h -> h.attach(caller));
            return new ForwardOutput(logits, last, List.copyOf(hidden));
        }
    }

    /**
     * Checks that every id indexes a row of the embedding, as {@link #forward} does before it runs.
     *
     * @throws IllegalArgumentException naming the first id outside {@code [0, vocab_size)}
     */
    public void checkTokenIds(long[] ids) {
        for (long id : ids) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
    }

    /**
     * The token embeddings [..., hidden] of {@code ids} (the embed_tokens lookup that starts {@link #forward}), on
     * the manager of {@code ids}. The ids are not checked: see {@link #checkTokenIds}.
     */
    public NDArray embed(NDArray ids) {
        return ids.getNDArrayInternal().embedding(ids, weights.embedTokens, SparseFormat.DENSE).singletonOrThrow();
    }

    /**
     * The head on final-norm hidden states [..., hidden]: next-token logits [..., vocab] (lm_head or the tied
     * embedding), or [..., numLabels] scores for a classification model; FP32, on the manager of {@code hidden}.
     */
    public NDArray head(NDArray hidden) {
        if (config.head() == ModelHead.REWARD_MODEL_WITH_GATING) {
            throw new UnsupportedModelException(config.architecture().className(config.head())
                    + " has no token head: score it with GatedRewardModel");
        }
        NDArray w = config.head() == ModelHead.SEQUENCE_CLASSIFICATION ? weights.score : weights.lmHead;
        NDArray out = Linear.linear(hidden, w).singletonOrThrow();
        if (out.getDataType() == DataType.FLOAT32) {
            return out;
        }
        NDArray widened = out.toType(DataType.FLOAT32, false);
        out.close();
        return widened;
    }

    /**
     * The position inputs of the attention blocks for unpadded sequences at positions 0..len-1, broadcast over a
     * batch: the same tables a forward of an all-ones attention mask builds. The three arrays are attached to
     * {@code manager}; their intermediates are freed.
     */
    public PositionTables positionTables(NDManager manager, int len) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray mask = scope.ones(new Shape(1, len), DataType.FLOAT32);
            NDArray[] cosSin = rotary(mask, 0);
            PositionTables tables = new PositionTables(cosSin[0], cosSin[1], attentionBias(scope, mask, 0, len));
            tables.cos().attach(manager);
            tables.sin().attach(manager);
            tables.bias().attach(manager);
            return tables;
        }
    }

    /**
     * The attention branch f(x) of layer {@code layer}, without a KV cache: the block's output is x + f(x), as in
     * {@link #forward}. Temporaries are allocated on the manager of {@code x}.
     */
    public NDArray attentionBlock(NDArray x, int layer, PositionTables tables) {
        return attention(x, weights.layers.get(layer), new NDArray[] {tables.cos(), tables.sin()}, tables.bias(), null,
                layer);
    }

    /** The MLP branch f(x) of layer {@code layer}: the block's output is x + f(x), as in {@link #forward}. */
    public NDArray mlpBlock(NDArray x, int layer) {
        return mlp(x, weights.layers.get(layer));
    }

    /** The final RMSNorm of the decoder, applied to the last hidden state before the head. */
    public NDArray finalNorm(NDArray x) {
        return rmsNorm(x, weights.norm);
    }

    /** x + f(x) with f's temporaries in a child manager closed right after the block. */
    private static NDArray residual(NDManager scope, NDArray x, boolean dropInput,
            java.util.function.UnaryOperator<NDArray> branch) {
        try (NDManager block = scope.newSubManager()) {
            x.tempAttach(block); // ops on x now allocate in the block's manager; x returns to scope afterwards
            NDArray out = x.add(branch.apply(x));
            out.attach(scope);
            return out;
        } finally {
            if (dropInput) {
                x.close(); // the residual input is no longer needed (autograd keeps its own reference)
            }
        }
    }

    // Attention block: InputNorm, q/k/v, rotary, cache, grouped-query causal attention, o_proj.
    private NDArray attention(NDArray x, LayerWeights w, NDArray[] cosSin, NDArray bias, KvCache cache, int layer) {
        Shape s = x.getShape();
        long b = s.get(0);
        long t = s.get(1);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int d = config.headDim();
        // Pre-attention RMSNorm.
        NDArray h = rmsNorm(x, w.inputLayernorm());
        // Projections, split into heads: [b, t, heads*d] -> [b, t, heads, d] -> [b, heads, t, d].
        NDArray q = Linear.linear(h, w.qProj(), w.qBias()).singletonOrThrow().reshape(b, t, heads, d).transpose(0, 2, 1, 3);
        NDArray k = Linear.linear(h, w.kProj(), w.kBias()).singletonOrThrow().reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        NDArray v = Linear.linear(h, w.vProj(), w.vBias()).singletonOrThrow().reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        // Rotary position embedding on queries and keys.
        q = rotate(q, cosSin);
        k = rotate(k, cosSin);
        // KV cache: attend to every cached position plus the new ones.
        if (cache != null) {
            NDArray[] kv = cache.append(layer, k, v, x.getManager());
            k = kv[0];
            v = kv[1];
        }
        long kvLen = k.getShape().get(2);
        // GQA without copying k/v: the group's queries share a kv head. q [b, heads, t, d] -> [b, kvHeads, group*t, d].
        int group = config.groupSize();
        NDArray qg = OwnedArrays.mul(q, 1.0 / Math.sqrt(d)).reshape(b, kvHeads, (long) group * t, d);
        // Scores [b, kvHeads, group*t, kvLen] -> [b, heads, t, kvLen], masked and normalised in FP32.
        NDArray kT = k.transpose(0, 1, 3, 2); // [b, kvHeads, d, kvLen]
        kT.attach(x.getManager()); // a temporary of this block, whoever owns k
        NDArray scores = qg.matMul(kT).reshape(b, heads, t, kvLen).toType(DataType.FLOAT32, false);
        NDArray probs = scores.add(bias).softmax(-1).toType(options.computeType(), false);
        // Weighted values [b, kvHeads, group*t, d] -> [b, heads, t, d] -> [b, t, heads*d].
        NDArray ctx = probs.reshape(b, kvHeads, (long) group * t, kvLen).matMul(v)
                .reshape(b, heads, t, d).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * d);
        // Output projection.
        return Linear.linear(ctx, w.oProj(), w.oBias()).singletonOrThrow();
    }

    // MLP block: PostAttnNorm, SwiGLU down(silu(gate(h)) * up(h)).
    private NDArray mlp(NDArray x, LayerWeights w) {
        NDArray h = rmsNorm(x, w.postAttentionLayernorm());
        NDArray gate = Linear.linear(h, w.gateProj(), w.gateBias()).singletonOrThrow();
        NDArray up = Linear.linear(h, w.upProj(), w.upBias()).singletonOrThrow();
        NDArray act = gate.mul(Activation.sigmoid(gate)).mul(up);
        return Linear.linear(act, w.downProj(), w.downBias()).singletonOrThrow();
    }

    // RMSNorm in FP32: x * rsqrt(mean(x^2) + eps), cast back, times the weight.
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray xf = x.toType(DataType.FLOAT32, false);
        NDArray rms = OwnedArrays.add(xf.square().mean(new int[] {-1}, true), config.rmsNormEps()).sqrt();
        return xf.div(rms).toType(options.computeType(), false).mul(weight);
    }

    // x * cos + rotate_half(x) * sin, with rotate_half(x) = [-x2, x1] over the two halves of the head.
    private NDArray rotate(NDArray x, NDArray[] cosSin) {
        long half = config.headDim() / 2;
        NDArray x1 = x.get(new NDIndex("..., :{}", half));
        NDArray x2 = x.get(new NDIndex("..., {}:", half));
        NDArray rotated = NDArrays.concat(new NDList(x2.neg(), x1), -1);
        return x.mul(cosSin[0]).add(rotated.mul(cosSin[1]));
    }

    /** cos and sin [batch, 1, seq, headDim] of the new positions; positions count real tokens (mask cumsum - 1). */
    private NDArray[] rotary(NDArray fullMask, int past) {
        NDArray positions = fullMask.cumSum(1).sub(1).maximum(0).get(new NDIndex(":, {}:", past)); // [b, seq]
        NDArray angles = positions.expandDims(2).mul(invFreq); // [b, seq, 1] * [d/2] -> [b, seq, d/2]
        NDArray emb = NDArrays.concat(new NDList(angles, angles), -1).expandDims(1); // [b, 1, seq, d]
        return new NDArray[] {emb.cos().toType(options.computeType(), false),
                emb.sin().toType(options.computeType(), false)};
    }

    /** Additive FP32 mask [batch, 1, seq, past + seq]: causal, sliding window, and key padding. */
    private NDArray attentionBias(NDManager scope, NDArray fullMask, int past, long seq) {
        long total = fullMask.getShape().get(1);
        NDArray qPos = scope.arange(past, past + seq, 1, DataType.FLOAT32).reshape(seq, 1); // [seq, 1]
        NDArray kPos = scope.arange(0, total, 1, DataType.FLOAT32).reshape(1, total); // [1, total]
        NDArray allowed = kPos.lte(qPos); // [seq, total] causal
        if (config.slidingWindow() != null) {
            allowed = allowed.logicalAnd(qPos.sub(kPos).lt(config.slidingWindow()));
        }
        NDArray keyReal = fullMask.gt(0).reshape(fullMask.getShape().get(0), 1, 1, total); // [b, 1, 1, total]
        NDArray ok = keyReal.logicalAnd(allowed.reshape(1, 1, seq, total)); // [b, 1, seq, total]
        return ok.toType(DataType.FLOAT32, false).sub(1).mul(-MASKED);
    }

    private static long[] longs(NDArray a) {
        if (a.getDataType() == DataType.INT64) {
            return a.toLongArray();
        }
        try (NDArray converted = a.toType(DataType.INT64, false)) {
            return converted.toLongArray();
        }
    }

    /** Frees the weights and every array created by the model. */
    @Override
    public void close() {
        manager.close();
    }
}
