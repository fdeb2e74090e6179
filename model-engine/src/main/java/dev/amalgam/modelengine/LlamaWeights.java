package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All parameters of a Llama-family model (immutable references; the arrays belong to the model's manager).
 * With tied embeddings {@link #lmHead} is the very same array as {@link #embedTokens}.
 */
public final class LlamaWeights {

    /** [vocab, hidden] */
    public final NDArray embedTokens;
    /** One entry per decoder layer. */
    public final List<LayerWeights> layers;
    /** [hidden] final RMSNorm weight */
    public final NDArray norm;
    /** [vocab, hidden]; null unless a causal LM */
    public final NDArray lmHead;
    /** [numLabels, hidden]; null unless a sequence-classification model */
    public final NDArray score;

    private final Map<String, NDArray> byName;

    private LlamaWeights(NDArray embedTokens, List<LayerWeights> layers, NDArray norm, NDArray lmHead,
            NDArray score, Map<String, NDArray> byName) {
        this.embedTokens = embedTokens;
        this.layers = List.copyOf(layers);
        this.norm = norm;
        this.lmHead = lmHead;
        this.score = score;
        this.byName = byName;
    }

    /** Loads every parameter the config calls for from {@code source}, by Hugging Face name. */
    public static LlamaWeights load(LlamaConfig c, WeightSource source) {
        Map<String, NDArray> named = new LinkedHashMap<>();
        long h = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKeyValueHeads() * c.headDim();
        long inter = c.intermediateSize();
        NDArray embed = take(named, source, "model.embed_tokens.weight", c.vocabSize(), h);
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new LayerWeights(
                    take(named, source, p + "input_layernorm.weight", h),
                    take(named, source, p + "self_attn.q_proj.weight", q, h),
                    c.qkvBias() ? take(named, source, p + "self_attn.q_proj.bias", q) : null,
                    take(named, source, p + "self_attn.k_proj.weight", kv, h),
                    c.qkvBias() ? take(named, source, p + "self_attn.k_proj.bias", kv) : null,
                    take(named, source, p + "self_attn.v_proj.weight", kv, h),
                    c.qkvBias() ? take(named, source, p + "self_attn.v_proj.bias", kv) : null,
                    take(named, source, p + "self_attn.o_proj.weight", h, q),
                    c.oBias() ? take(named, source, p + "self_attn.o_proj.bias", h) : null,
                    take(named, source, p + "post_attention_layernorm.weight", h),
                    take(named, source, p + "mlp.gate_proj.weight", inter, h),
                    c.mlpBias() ? take(named, source, p + "mlp.gate_proj.bias", inter) : null,
                    take(named, source, p + "mlp.up_proj.weight", inter, h),
                    c.mlpBias() ? take(named, source, p + "mlp.up_proj.bias", inter) : null,
                    take(named, source, p + "mlp.down_proj.weight", h, inter),
                    c.mlpBias() ? take(named, source, p + "mlp.down_proj.bias", h) : null));
        }
        NDArray norm = take(named, source, "model.norm.weight", h);
        NDArray lmHead = null;
        NDArray score = null;
        switch (c.head()) {
            case SEQUENCE_CLASSIFICATION -> score = take(named, source, "score.weight", c.numLabels(), h);
            case REWARD_MODEL_WITH_GATING -> {
                // the decoder only: GatedRewardModel reads its head tensors itself
            }
            case CAUSAL_LM -> lmHead = c.tieWordEmbeddings() ? embed // tied: one matrix, one gradient
                    : take(named, source, "lm_head.weight", c.vocabSize(), h);
            default -> throw new IllegalStateException(c.head().toString());
        }
        return new LlamaWeights(embed, layers, norm, lmHead, score, named);
    }

    private static NDArray take(Map<String, NDArray> named, WeightSource source, String name, long... shape) {
        NDArray a = source.load(name, shape);
        if (!java.util.Arrays.equals(a.getShape().getShape(), shape)) {
            throw new UnsupportedModelException("tensor " + name + " has shape " + a.getShape() + ", expected "
                    + java.util.Arrays.toString(shape));
        }
        a.setName(name);
        named.put(name, a);
        return a;
    }

    /** Every distinct parameter by Hugging Face name, in checkpoint order (a tied lm_head is not repeated). */
    public Map<String, NDArray> namedParameters() {
        return java.util.Collections.unmodifiableMap(byName);
    }

    /** Total number of scalars in all distinct parameters. */
    public long parameterCount() {
        Map<NDArray, Boolean> seen = new IdentityHashMap<>();
        long n = 0;
        for (NDArray a : byName.values()) {
            if (seen.put(a, Boolean.TRUE) == null) {
                n += a.size();
            }
        }
        return n;
    }

    /** Attaches (or detaches) gradients to every parameter, for training with DJL's GradientCollector. */
    public void setRequiresGradient(boolean requiresGradient) {
        byName.values().forEach(a -> a.setRequiresGradient(requiresGradient));
    }
}
