package dev.amalgam.modelengine;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import tools.jackson.databind.json.JsonMapper;

/** Tiny random models for tests: a config.json text, random weights by Hugging Face name, both engines. */
final class TinyFixture {

    final String configJson;
    final LlamaConfig config;
    final Map<String, float[]> weights = new LinkedHashMap<>();
    final Map<String, long[]> shapes = new LinkedHashMap<>();

    /** Small variants covering the architecture switches. */
    static TinyFixture llama() { // MHA, untied
        return new TinyFixture("""
                {"architectures":["LlamaForCausalLM"],"model_type":"llama","vocab_size":97,"hidden_size":32,
                 "intermediate_size":48,"num_hidden_layers":3,"num_attention_heads":4,"num_key_value_heads":4,
                 "rms_norm_eps":1e-5,"rope_theta":10000.0,"tie_word_embeddings":false,"hidden_act":"silu",
                 "max_position_embeddings":128,"bos_token_id":1,"eos_token_id":2}""", 11);
    }

    static TinyFixture llama3() { // GQA, tied, llama3 rope scaling, explicit head_dim != hidden/heads
        return new TinyFixture("""
                {"architectures":["LlamaForCausalLM"],"model_type":"llama","vocab_size":101,"hidden_size":48,
                 "intermediate_size":64,"num_hidden_layers":3,"num_attention_heads":4,"num_key_value_heads":2,
                 "head_dim":16,"rms_norm_eps":1e-5,"rope_theta":500000.0,"tie_word_embeddings":true,
                 "rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
                 "original_max_position_embeddings":16},"max_position_embeddings":128,"eos_token_id":[2,3]}""", 12);
    }

    static TinyFixture mistral() { // GQA, untied, sliding window smaller than the test sequences
        return new TinyFixture("""
                {"architectures":["MistralForCausalLM"],"model_type":"mistral","vocab_size":89,"hidden_size":32,
                 "intermediate_size":40,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":1,
                 "rms_norm_eps":1e-6,"rope_theta":1000000.0,"sliding_window":5,"tie_word_embeddings":false}""", 13);
    }

    static TinyFixture qwen2() { // GQA, tied, q/k/v biases
        return new TinyFixture("""
                {"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2","vocab_size":113,"hidden_size":64,
                 "intermediate_size":96,"num_hidden_layers":4,"num_attention_heads":8,"num_key_value_heads":2,
                 "rms_norm_eps":1e-6,"rope_theta":1000000.0,"tie_word_embeddings":true,"use_sliding_window":false,
                 "sliding_window":4,"eos_token_id":5}""", 14);
    }

    TinyFixture(String configJson, long seed) {
        this.configJson = configJson;
        this.config = LlamaConfig.fromJson(JsonMapper.builder().build().readTree(configJson));
        Random r = new Random(seed);
        int h = config.hiddenSize();
        int q = config.numAttentionHeads() * config.headDim();
        int kv = config.numKeyValueHeads() * config.headDim();
        int inter = config.intermediateSize();
        put(r, "model.embed_tokens.weight", 1.0, false, config.vocabSize(), h);
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            put(r, p + "input_layernorm.weight", 0.2, true, h);
            put(r, p + "self_attn.q_proj.weight", 0.3, false, q, h);
            put(r, p + "self_attn.k_proj.weight", 0.3, false, kv, h);
            put(r, p + "self_attn.v_proj.weight", 0.3, false, kv, h);
            if (config.qkvBias()) {
                put(r, p + "self_attn.q_proj.bias", 0.5, false, q);
                put(r, p + "self_attn.k_proj.bias", 0.5, false, kv);
                put(r, p + "self_attn.v_proj.bias", 0.5, false, kv);
            }
            put(r, p + "self_attn.o_proj.weight", 0.2, false, h, q);
            put(r, p + "post_attention_layernorm.weight", 0.2, true, h);
            put(r, p + "mlp.gate_proj.weight", 0.2, false, inter, h);
            put(r, p + "mlp.up_proj.weight", 0.2, false, inter, h);
            put(r, p + "mlp.down_proj.weight", 0.2, false, h, inter);
        }
        put(r, "model.norm.weight", 0.2, true, h);
        if (!config.tieWordEmbeddings()) {
            put(r, "lm_head.weight", 0.3, false, config.vocabSize(), h);
        }
    }

    private void put(Random r, String name, double std, boolean aroundOne, long... shape) {
        int n = 1;
        for (long s : shape) {
            n *= (int) s;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((aroundOne ? 1 : 0) + std * r.nextGaussian());
        }
        weights.put(name, v);
        shapes.put(name, shape);
    }

    /** The engine's model, weights created directly as NDArrays. */
    LlamaModel engine() {
        NDManager manager = DjlRuntime.newManager(ai.djl.Device.cpu());
        LlamaWeights w = LlamaWeights.load(config, (name, shape) -> {
            float[] v = weights.get(name);
            if (v == null) {
                throw new IllegalArgumentException("missing " + name);
            }
            return manager.create(v, new Shape(shapes.get(name)));
        });
        return new LlamaModel(config, EngineOptions.cpu(), manager, w);
    }

    /** The independent reference; hyper-parameters restated from the JSON, not taken from the engine's config. */
    NaiveLlama reference() {
        var json = JsonMapper.builder().build().readTree(configJson);
        int hidden = json.get("hidden_size").asInt();
        int heads = json.get("num_attention_heads").asInt();
        double[] llama3 = null;
        if (json.has("rope_scaling")) {
            var rs = json.get("rope_scaling");
            llama3 = new double[] {rs.get("factor").asDouble(), rs.get("low_freq_factor").asDouble(),
                    rs.get("high_freq_factor").asDouble(), rs.get("original_max_position_embeddings").asDouble()};
        }
        String type = json.get("model_type").asString();
        return new NaiveLlama(new NaiveLlama.Params(json.get("vocab_size").asInt(), hidden,
                json.get("intermediate_size").asInt(), json.get("num_hidden_layers").asInt(), heads,
                json.get("num_key_value_heads").asInt(),
                json.has("head_dim") ? json.get("head_dim").asInt() : hidden / heads,
                json.get("rms_norm_eps").asDouble(), json.get("rope_theta").asDouble(),
                json.get("tie_word_embeddings").asBoolean(), type.equals("qwen2"),
                type.equals("mistral") && json.has("sliding_window") ? json.get("sliding_window").asInt() : null,
                llama3), weights);
    }
}
