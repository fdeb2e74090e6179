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

    private TinyModels() {
    }

    /** Writes a causal LM into {@code outDir} (created if needed) and returns it. */
    public static Path write(Architecture arch, Path outDir, TinySizes sizes, long seed) {
        return write(arch, ModelHead.CAUSAL_LM, outDir, sizes, seed);
    }

    /** Writes a reward model ({@code *ForSequenceClassification}, one label, {@code score.weight}). */
    public static Path writeRewardModel(Architecture arch, Path outDir, TinySizes sizes, long seed) {
        return write(arch, ModelHead.SEQUENCE_CLASSIFICATION, outDir, sizes, seed);
    }

    private static Path write(Architecture arch, ModelHead head, Path outDir, TinySizes s, long seed) {
        JsonMapper mapper = JsonMapper.builder().build();
        boolean tied = arch == Architecture.QWEN2 && head == ModelHead.CAUSAL_LM;
        try {
            Files.createDirectories(outDir);
            Files.writeString(outDir.resolve("config.json"), pretty(mapper, config(mapper, arch, head, s, tied)));
            writeWeights(outDir.resolve("model.safetensors"), arch, head, s, tied, seed);
            Files.writeString(outDir.resolve("tokenizer.json"), ByteLevelTokenizerJson.build(mapper));
            Files.writeString(outDir.resolve("tokenizer_config.json"), pretty(mapper, tokenizerConfig(mapper, s)));
            ObjectNode specials = mapper.createObjectNode();
            specials.put("bos_token", ByteLevelTokenizerJson.BOS);
            specials.put("eos_token", ByteLevelTokenizerJson.EOS);
            specials.put("pad_token", ByteLevelTokenizerJson.PAD);
            Files.writeString(outDir.resolve("special_tokens_map.json"), pretty(mapper, specials));
            ObjectNode gen = mapper.createObjectNode();
            gen.put("bos_token_id", ByteLevelTokenizerJson.idOf(ByteLevelTokenizerJson.BOS));
            gen.put("eos_token_id", ByteLevelTokenizerJson.idOf(ByteLevelTokenizerJson.EOS));
            gen.put("pad_token_id", ByteLevelTokenizerJson.idOf(ByteLevelTokenizerJson.PAD));
            Files.writeString(outDir.resolve("generation_config.json"), pretty(mapper, gen));
            return outDir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tiny model to " + outDir, e);
        }
    }

    private static ObjectNode config(JsonMapper mapper, Architecture arch, ModelHead head, TinySizes s, boolean tied) {
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
        c.put("bos_token_id", ByteLevelTokenizerJson.idOf(ByteLevelTokenizerJson.BOS));
        c.put("eos_token_id", ByteLevelTokenizerJson.idOf(ByteLevelTokenizerJson.EOS));
        c.put("pad_token_id", ByteLevelTokenizerJson.idOf(ByteLevelTokenizerJson.PAD));
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
        c.put("transformers_version", "4.46.0");
        return c;
    }

    private static ObjectNode tokenizerConfig(JsonMapper mapper, TinySizes s) {
        ObjectNode t = mapper.createObjectNode();
        t.put("tokenizer_class", "PreTrainedTokenizerFast");
        t.put("bos_token", ByteLevelTokenizerJson.BOS);
        t.put("eos_token", ByteLevelTokenizerJson.EOS);
        t.put("pad_token", ByteLevelTokenizerJson.PAD);
        t.put("add_bos_token", true);
        t.put("add_eos_token", false);
        t.put("model_max_length", s.maxPositionEmbeddings());
        t.put("clean_up_tokenization_spaces", false);
        t.put("chat_template", CHAT_TEMPLATE);
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
        boolean norm = name.endsWith("norm.weight");
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
