package dev.amalgam.modelengine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Hyper-parameters of a Llama-family decoder, read from a Hugging Face config.json.
 *
 * <p>Llama, Mistral and Qwen2 are one network with a few switches: grouped-query attention
 * ({@code numKeyValueHeads < numAttentionHeads}), q/k/v biases (Qwen2, or Llama's {@code attention_bias}),
 * tied embeddings, {@code rope_theta}, Llama-3 rope scaling, an explicit {@code head_dim}, Mistral's sliding window.
 *
 * <pre>{@code
 * LlamaConfig config = LlamaConfig.read(modelDir.resolve("config.json"));
 * }</pre>
 *
 * @param architecture model family
 * @param head language-model, sequence-classification or gated multi-objective reward head
 * @param vocabSize rows of the embedding
 * @param hiddenSize residual stream width
 * @param intermediateSize MLP width
 * @param numHiddenLayers decoder layers
 * @param numAttentionHeads query heads
 * @param numKeyValueHeads key/value heads (divides numAttentionHeads)
 * @param headDim width of one head (often hiddenSize / numAttentionHeads)
 * @param rmsNormEps epsilon of RMSNorm
 * @param ropeTheta rotary base
 * @param ropeScaling null for plain RoPE
 * @param maxPositionEmbeddings context length the model was built for
 * @param tieWordEmbeddings lm_head shares the embedding matrix
 * @param qkvBias q/k/v projections have biases
 * @param oBias o_proj has a bias (Llama with attention_bias)
 * @param mlpBias gate/up/down projections have biases (Llama's mlp_bias)
 * @param slidingWindow attention window in tokens (Mistral), or null
 * @param numLabels outputs of a classification head (1 for a reward model)
 * @param bosTokenId may be null
 * @param eosTokenIds may be empty
 * @param padTokenId may be null
 */
public record LlamaConfig(Architecture architecture, ModelHead head, int vocabSize, int hiddenSize,
        int intermediateSize, int numHiddenLayers, int numAttentionHeads, int numKeyValueHeads, int headDim,
        double rmsNormEps, double ropeTheta, RopeScaling ropeScaling, int maxPositionEmbeddings,
        boolean tieWordEmbeddings, boolean qkvBias, boolean oBias, boolean mlpBias, Integer slidingWindow,
        int numLabels, Integer bosTokenId, List<Integer> eosTokenIds, Integer padTokenId) {

    public LlamaConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("head_dim", headDim);
        positive("num_labels", numLabels);
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new UnsupportedModelException("num_attention_heads " + numAttentionHeads
                    + " is not a multiple of num_key_value_heads " + numKeyValueHeads);
        }
        if (headDim % 2 != 0) {
            throw new UnsupportedModelException("head_dim must be even for rotary embeddings, got " + headDim);
        }
        if (!(rmsNormEps > 0) || !(ropeTheta > 0)) {
            throw new UnsupportedModelException("rms_norm_eps and rope_theta must be > 0");
        }
        if (slidingWindow != null) {
            positive("sliding_window", slidingWindow);
        }
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /** Queries per key/value head (the GQA group size). */
    public int groupSize() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /** Reads and validates {@code config.json}. */
    public static LlamaConfig read(Path configJson) {
        try {
            return fromJson(JsonMapper.builder().build().readTree(Files.readString(configJson)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configJson, e);
        } catch (JacksonException e) {
            throw new UnsupportedModelException(configJson + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** Builds a config from the parsed config.json, failing with a message naming any unsupported value. */
    public static LlamaConfig fromJson(JsonNode json) {
        Architecture arch = null;
        ModelHead head = ModelHead.CAUSAL_LM;
        JsonNode archs = json.path("architectures");
        if (archs.isArray() && !archs.isEmpty()) {
            String className = archs.get(0).asString();
            arch = Architecture.fromClassName(className);
            if (arch == null) {
                throw new UnsupportedModelException("unsupported architecture '" + className
                        + "'; supported: {Llama,Mistral,Qwen2}For{CausalLM,SequenceClassification,"
                        + "RewardModelWithGating}");
            }
            head = ModelHead.fromClassName(className);
        }
        String modelType = json.path("model_type").asString("");
        if (arch == null) {
            arch = Architecture.fromName(modelType);
        } else if (!modelType.isEmpty() && !modelType.equals(arch.modelType())) {
            throw new UnsupportedModelException("model_type '" + modelType + "' contradicts architectures " + archs);
        }
        String act = json.path("hidden_act").asString("silu");
        if (!act.equals("silu")) {
            throw new UnsupportedModelException("unsupported hidden_act '" + act + "' (only silu)");
        }
        if (arch == Architecture.QWEN2 && json.path("use_sliding_window").asBoolean(false)) {
            throw new UnsupportedModelException("Qwen2 use_sliding_window=true is not supported");
        }
        int hidden = requiredInt(json, "hidden_size");
        int heads = requiredInt(json, "num_attention_heads");
        int kvHeads = optionalInt(json, "num_key_value_heads", heads);
        int headDim = optionalInt(json, "head_dim", heads > 0 ? hidden / heads : 0);
        boolean attentionBias = json.path("attention_bias").asBoolean(false);
        boolean qkvBias = arch == Architecture.QWEN2 || attentionBias;
        boolean oBias = arch != Architecture.QWEN2 && attentionBias;
        Integer window = arch == Architecture.MISTRAL && isInt(json.path("sliding_window"))
                ? json.path("sliding_window").asInt() : null;
        return new LlamaConfig(arch, head,
                requiredInt(json, "vocab_size"), hidden, requiredInt(json, "intermediate_size"),
                requiredInt(json, "num_hidden_layers"), heads, kvHeads, headDim,
                optionalDouble(json, "rms_norm_eps", 1e-6), optionalDouble(json, "rope_theta", 10000.0),
                ropeScaling(json.path("rope_scaling")), optionalInt(json, "max_position_embeddings", 4096),
                json.path("tie_word_embeddings").asBoolean(false), qkvBias, oBias, json.path("mlp_bias").asBoolean(false),
                window, head == ModelHead.SEQUENCE_CLASSIFICATION ? optionalInt(json, "num_labels", numLabels(json)) : 1,
                isInt(json.path("bos_token_id")) ? json.path("bos_token_id").asInt() : null,
                intList(json.path("eos_token_id")),
                isInt(json.path("pad_token_id")) ? json.path("pad_token_id").asInt() : null);
    }

    private static RopeScaling ropeScaling(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return null;
        }
        String type = node.path("rope_type").asString(node.path("type").asString(""));
        if (type.equals("default")) {
            return null;
        }
        if (type.equals("linear")) {
            return RopeScaling.linear(optionalDouble(node, "factor", 1.0));
        }
        if (type.equals("llama3")) {
            return RopeScaling.llama3(optionalDouble(node, "factor", 8.0), optionalDouble(node, "low_freq_factor", 1.0),
                    optionalDouble(node, "high_freq_factor", 4.0),
                    optionalInt(node, "original_max_position_embeddings", 8192));
        }
        throw new UnsupportedModelException("unsupported rope_scaling type '" + type + "' (supported: llama3, linear)");
    }

    private static int numLabels(JsonNode json) {
        JsonNode id2label = json.path("id2label");
        return id2label.isObject() && !id2label.isEmpty() ? id2label.size() : 1;
    }

    private static boolean isInt(JsonNode n) {
        return n.isIntegralNumber();
    }

    private static int requiredInt(JsonNode json, String key) {
        JsonNode n = json.path(key);
        if (!isInt(n)) {
            throw new UnsupportedModelException("config.json: '" + key + "' must be an integer, got " + n);
        }
        return n.asInt();
    }

    private static int optionalInt(JsonNode json, String key, int fallback) {
        JsonNode n = json.path(key);
        if (n.isMissingNode() || n.isNull()) {
            return fallback;
        }
        if (!isInt(n)) {
            throw new UnsupportedModelException("config.json: '" + key + "' must be an integer, got " + n);
        }
        return n.asInt();
    }

    private static double optionalDouble(JsonNode json, String key, double fallback) {
        JsonNode n = json.path(key);
        if (n.isMissingNode() || n.isNull()) {
            return fallback;
        }
        if (!n.isNumber()) {
            throw new UnsupportedModelException("config.json: '" + key + "' must be a number, got " + n);
        }
        return n.asDouble();
    }

    private static List<Integer> intList(JsonNode n) {
        List<Integer> out = new ArrayList<>();
        if (isInt(n)) {
            out.add(n.asInt());
        } else if (n.isArray()) {
            n.values().forEach(v -> out.add(v.asInt()));
        }
        return out;
    }

    private static void positive(String key, int value) {
        if (value <= 0) {
            throw new UnsupportedModelException("config.json: '" + key + "' must be > 0, got " + value);
        }
    }
}
