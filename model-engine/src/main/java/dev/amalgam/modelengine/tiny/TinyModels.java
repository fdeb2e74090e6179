package dev.amalgam.modelengine.tiny;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.ModelHead;
import dev.amalgam.modelio.SafetensorsWriter;
import dev.amalgam.modelio.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes random tiny checkpoints in the exact Hugging Face layout (config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json with a chat template, special_tokens_map.json, generation_config.json), for tests, demos and
 * {@code amalgam tiny-model}. Weights are N(0, 1/fan_in) (embeddings N(0, 1), norms 1 + N(0, 0.1)) so the network
 * is far from uniform and greedy decoding has clear winners; the same seed gives the same bytes.
 *
 * <pre>{@code
 * TinyModels.write(Architecture.QWEN2, dir, TinySizes.defaults(), 42);
 * }</pre>
 *
 * Architecture switches: Llama untied; Mistral untied with {@code sliding_window} 4096; Qwen2 tied with q/k/v biases.
 */
public final class TinyModels {

    /** The chat template of tiny models (Zephyr style; unknown roles raise). */
    public static final String CHAT_TEMPLATE = "{% for message in messages %}"
            + "{% if message['role'] not in ['system', 'user', 'assistant'] %}"
            + "{{ raise_exception('Unknown role: ' + message['role']) }}{% endif %}"
            + "{% if loop.first %}{{ bos_token }}{% endif %}"
            + "{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}"
            + "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

    /** Llama 3's chat template (what ArmoRM's tokenizer carries); the gated reward model's tokenizer uses it. */
    public static final String LLAMA3_CHAT_TEMPLATE = "{% set loop_messages = messages %}"
            + "{% for message in loop_messages %}"
            + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
            + " + message['content'] | trim + '<|eot_id|>' %}"
            + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    /** Head sizes of the tiny gated reward model (ArmoRM's are 19, 1024, 3 and 10). */
    public static final int GATED_NUM_OBJECTIVES = 5;
    public static final int GATED_HIDDEN_DIM = 16;
    public static final int GATED_N_HIDDEN = 2;
    /** Low, so that the random gating network's weights are far from uniform. */
    public static final double GATED_TEMPERATURE = 0.5;

    private TinyModels() {
    }

    /** Writes a causal LM into {@code outDir} (created if needed) and returns it. */
    public static Path write(Architecture arch, Path outDir, TinySizes sizes, long seed) {
        return write(arch, ModelHead.CAUSAL_LM, outDir, sizes, seed, TinyVocabulary.BYTES);
    }

    /** Writes a causal LM whose tokenizer is {@code vocabulary} (same sizes and weights as with the bytes one). */
    public static Path write(Architecture arch, Path outDir, TinySizes sizes, long seed, TinyVocabulary vocabulary) {
        return write(arch, ModelHead.CAUSAL_LM, outDir, sizes, seed, vocabulary);
    }

    /** Writes a reward model ({@code *ForSequenceClassification}, one label, {@code score.weight}). */
    public static Path writeRewardModel(Architecture arch, Path outDir, TinySizes sizes, long seed) {
        return write(arch, ModelHead.SEQUENCE_CLASSIFICATION, outDir, sizes, seed, TinyVocabulary.BYTES);
    }

    /**
     * Writes a reward model in ArmoRM's layout ({@code LlamaForRewardModelWithGating}): a Llama decoder without
     * lm_head, {@code regression_layer}, {@code reward_transform_matrix} (random, not the identity), and the
     * {@code gating} network ({@code logit_scale}, {@link #GATED_N_HIDDEN} hidden layers of {@link #GATED_HIDDEN_DIM}
     * and the output layer, all with biases), with the {@code num_objectives} and {@code gating_*} config fields.
     * Its tokenizer names the special tokens as Llama 3 does and carries {@link #LLAMA3_CHAT_TEMPLATE}, so ArmoRM's
     * gating marker ({@code <|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n}) occurs in rendered chats.
     */
    public static Path writeGatedRewardModel(Path outDir, TinySizes sizes, long seed) {
        return write(Architecture.LLAMA, ModelHead.REWARD_MODEL_WITH_GATING, outDir, sizes, seed, TinyVocabulary.BYTES);
    }

    private static Path write(Architecture arch, ModelHead head, Path outDir, TinySizes s, long seed,
                              TinyVocabulary vocabulary) {
        JsonMapper mapper = JsonMapper.builder().build();
        boolean tied = arch == Architecture.QWEN2 && head == ModelHead.CAUSAL_LM;
        boolean llama3 = head == ModelHead.REWARD_MODEL_WITH_GATING;
        List<String> tokens = llama3 ? ByteLevelTokenizerJson.LLAMA3_SPECIALS : ByteLevelTokenizerJson.SPECIALS;
        try {
            Files.createDirectories(outDir);
            Files.writeString(outDir.resolve("config.json"),
                    pretty(mapper, config(mapper, arch, head, s, tied, tokens)));
            writeWeights(outDir.resolve("model.safetensors"), arch, head, s, tied, seed);
            Files.writeString(outDir.resolve("tokenizer.json"), ByteLevelTokenizerJson.build(mapper, tokens, vocabulary));
            Files.writeString(outDir.resolve("tokenizer_config.json"), pretty(mapper,
                    tokenizerConfig(mapper, s, tokens, llama3 ? LLAMA3_CHAT_TEMPLATE : CHAT_TEMPLATE)));
            ObjectNode specials = mapper.createObjectNode();
            specials.put("bos_token", tokens.get(0));
            specials.put("eos_token", tokens.get(1));
            specials.put("pad_token", tokens.get(2));
            Files.writeString(outDir.resolve("special_tokens_map.json"), pretty(mapper, specials));
            ObjectNode gen = mapper.createObjectNode();
            gen.put("bos_token_id", ByteLevelTokenizerJson.idOf(tokens, tokens.get(0)));
            gen.put("eos_token_id", ByteLevelTokenizerJson.idOf(tokens, tokens.get(1)));
            gen.put("pad_token_id", ByteLevelTokenizerJson.idOf(tokens, tokens.get(2)));
            Files.writeString(outDir.resolve("generation_config.json"), pretty(mapper, gen));
            return outDir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tiny model to " + outDir, e);
        }
    }

    private static ObjectNode config(JsonMapper mapper, Architecture arch, ModelHead head, TinySizes s, boolean tied,
            List<String> tokens) {
        ObjectNode c = mapper.createObjectNode();
        c.putArray("architectures").add(arch.className(head));
        c.put("model_type", arch.modelType());
        c.put("vocab_size", ByteLevelTokenizerJson.vocabSize());
        c.put("hidden_size", s.hiddenSize());
        c.put("intermediate_size", s.intermediateSize());
        c.put("num_hidden_layers", s.numHiddenLayers());
        c.put("num_attention_heads", s.numAttentionHeads());
        c.put("num_key_value_heads", s.numKeyValueHeads());
        c.put("hidden_act", "silu");
        c.put("max_position_embeddings", s.maxPositionEmbeddings());
        c.put("rms_norm_eps", 1e-6);
        c.put("rope_theta", arch == Architecture.LLAMA ? 10000.0 : 1000000.0);
        c.put("tie_word_embeddings", tied);
        c.put("initializer_range", 0.02);
        c.put("bos_token_id", ByteLevelTokenizerJson.idOf(tokens, tokens.get(0)));
        c.put("eos_token_id", ByteLevelTokenizerJson.idOf(tokens, tokens.get(1)));
        c.put("pad_token_id", ByteLevelTokenizerJson.idOf(tokens, tokens.get(2)));
        c.put("torch_dtype", switch (s.dtype()) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        });
        switch (arch) {
            case LLAMA -> {
                c.put("attention_bias", false);
                c.put("mlp_bias", false);
            }
            case MISTRAL -> c.put("sliding_window", 4096);
            case QWEN2 -> {
                c.put("use_sliding_window", false);
                c.put("sliding_window", 4096);
                c.put("max_window_layers", s.numHiddenLayers());
            }
            default -> throw new IllegalStateException(arch.toString());
        }
        if (head == ModelHead.SEQUENCE_CLASSIFICATION) {
            c.put("num_labels", 1);
            c.putObject("id2label").put("0", "LABEL_0");
            c.putObject("label2id").put("LABEL_0", 0);
        }
        if (head == ModelHead.REWARD_MODEL_WITH_GATING) {
            c.put("num_objectives", GATED_NUM_OBJECTIVES);
            c.put("gating_hidden_dim", GATED_HIDDEN_DIM);
            c.put("gating_n_hidden", GATED_N_HIDDEN);
            c.put("gating_temperature", GATED_TEMPERATURE);
        }
        c.put("transformers_version", "4.46.0");
        return c;
    }

    private static ObjectNode tokenizerConfig(JsonMapper mapper, TinySizes s, List<String> tokens, String template) {
        ObjectNode t = mapper.createObjectNode();
        t.put("tokenizer_class", "PreTrainedTokenizerFast");
        t.put("bos_token", tokens.get(0));
        t.put("eos_token", tokens.get(1));
        t.put("pad_token", tokens.get(2));
        t.put("add_bos_token", true);
        t.put("add_eos_token", false);
        t.put("model_max_length", s.maxPositionEmbeddings());
        t.put("clean_up_tokenization_spaces", false);
        t.put("chat_template", template);
        return t;
    }

    private static void writeWeights(Path file, Architecture arch, ModelHead head, TinySizes s, boolean tied,
            long seed) {
        int h = s.hiddenSize();
        int d = h / s.numAttentionHeads();
        int q = s.numAttentionHeads() * d;
        int kv = s.numKeyValueHeads() * d;
        int inter = s.intermediateSize();
        int vocab = ByteLevelTokenizerJson.vocabSize();
        boolean bias = arch == Architecture.QWEN2;
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[] {vocab, h});
        for (int i = 0; i < s.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            shapes.put(p + "input_layernorm.weight", new long[] {h});
            shapes.put(p + "self_attn.q_proj.weight", new long[] {q, h});
            shapes.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
            shapes.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
            if (bias) {
                shapes.put(p + "self_attn.q_proj.bias", new long[] {q});
                shapes.put(p + "self_attn.k_proj.bias", new long[] {kv});
                shapes.put(p + "self_attn.v_proj.bias", new long[] {kv});
            }
            shapes.put(p + "self_attn.o_proj.weight", new long[] {h, q});
            shapes.put(p + "post_attention_layernorm.weight", new long[] {h});
            shapes.put(p + "mlp.gate_proj.weight", new long[] {inter, h});
            shapes.put(p + "mlp.up_proj.weight", new long[] {inter, h});
            shapes.put(p + "mlp.down_proj.weight", new long[] {h, inter});
        }
        shapes.put("model.norm.weight", new long[] {h});
        if (head == ModelHead.SEQUENCE_CLASSIFICATION) {
            shapes.put("score.weight", new long[] {1, h});
        } else if (head == ModelHead.REWARD_MODEL_WITH_GATING) {
            int k = GATED_NUM_OBJECTIVES;
            shapes.put("regression_layer.weight", new long[] {k, h});
            shapes.put("reward_transform_matrix", new long[] {k, k});
            shapes.put("gating.logit_scale", new long[] {1});
            int in = h;
            for (int i = 0; i <= GATED_N_HIDDEN; i++) {
                int out = i < GATED_N_HIDDEN ? GATED_HIDDEN_DIM : k;
                shapes.put("gating.layers." + i + ".weight", new long[] {out, in});
                shapes.put("gating.layers." + i + ".bias", new long[] {out});
                in = out;
            }
        } else if (!tied) {
            shapes.put("lm_head.weight", new long[] {vocab, h});
        }
        List<TensorSpec> specs = new ArrayList<>();
        shapes.forEach((name, shape) -> specs.add(new TensorSpec(name, s.dtype(), shape)));
        SplittableRandom random = new SplittableRandom(seed);
        try (SafetensorsWriter w = SafetensorsWriter.create(file, specs, Map.of("format", "pt"))) {
            for (var e : shapes.entrySet()) {
                w.write(e.getKey(), randomValues(random, e.getKey(), e.getValue()));
            }
        }
    }

    private static float[] randomValues(SplittableRandom r, String name, long[] shape) {
        int n = 1;
        for (long dim : shape) {
            n = Math.multiplyExact(n, (int) dim);
        }
        float[] v = new float[n];
        boolean norm = name.endsWith("norm.weight") || name.endsWith("logit_scale"); // around 1
        double std = norm ? 0.1 : name.endsWith(".bias") ? 0.1 : name.contains("embed_tokens") ? 1.0
                : 1.0 / Math.sqrt(shape[shape.length - 1]);
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((norm ? 1.0 : 0.0) + std * gaussian(r));
        }
        return v;
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller; SplittableRandom has no nextGaussian on Java 17.
        double u = 1.0 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    private static String pretty(JsonMapper mapper, ObjectNode node) {
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(node);
    }
}
