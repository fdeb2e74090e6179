package dev.amalgam.merge;

import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.ShardedCheckpointWriter;
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
import java.util.stream.IntStream;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes small random Llama-style checkpoints (config.json, tokenizer files, safetensors) for tests and the
 * benchmark. A "variant" is the base plus a seeded perturbation, like a fine-tune of the same pivot.
 *
 * @param vocab        vocabulary size (embedding rows)
 * @param hidden       hidden size
 * @param intermediate MLP size
 * @param layers       decoder layers
 * @param heads        attention heads
 * @param kvHeads      key/value heads (grouped-query attention when fewer than heads)
 * @param tied         tie_word_embeddings (no lm_head tensor)
 * @param dtype        storage dtype
 */
public record TinyLlama(int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads, boolean tied,
                        DType dtype) {

    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    /** A 2-layer model of a few thousand parameters. */
    public static TinyLlama small() {
        return new TinyLlama(32, 16, 24, 2, 4, 2, false, DType.BF16);
    }

    public TinyLlama withVocab(int v) {
        return new TinyLlama(v, hidden, intermediate, layers, heads, kvHeads, tied, dtype);
    }

    public TinyLlama withLayers(int l) {
        return new TinyLlama(vocab, hidden, intermediate, l, heads, kvHeads, tied, dtype);
    }

    public TinyLlama withTied(boolean t) {
        return new TinyLlama(vocab, hidden, intermediate, layers, heads, kvHeads, t, dtype);
    }

    public TinyLlama withDtype(DType d) {
        return new TinyLlama(vocab, hidden, intermediate, layers, heads, kvHeads, tied, d);
    }

    /** Tensor specs in Hugging Face order. */
    public List<TensorSpec> specs() {
        int headDim = hidden / heads;
        List<TensorSpec> s = new ArrayList<>();
        s.add(new TensorSpec("model.embed_tokens.weight", dtype, new long[]{vocab, hidden}));
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            s.add(new TensorSpec(p + "input_layernorm.weight", dtype, new long[]{hidden}));
            s.add(new TensorSpec(p + "self_attn.q_proj.weight", dtype, new long[]{hidden, hidden}));
            s.add(new TensorSpec(p + "self_attn.k_proj.weight", dtype, new long[]{(long) kvHeads * headDim, hidden}));
            s.add(new TensorSpec(p + "self_attn.v_proj.weight", dtype, new long[]{(long) kvHeads * headDim, hidden}));
            s.add(new TensorSpec(p + "self_attn.o_proj.weight", dtype, new long[]{hidden, hidden}));
            s.add(new TensorSpec(p + "post_attention_layernorm.weight", dtype, new long[]{hidden}));
            s.add(new TensorSpec(p + "mlp.gate_proj.weight", dtype, new long[]{intermediate, hidden}));
            s.add(new TensorSpec(p + "mlp.up_proj.weight", dtype, new long[]{intermediate, hidden}));
            s.add(new TensorSpec(p + "mlp.down_proj.weight", dtype, new long[]{hidden, intermediate}));
        }
        s.add(new TensorSpec("model.norm.weight", dtype, new long[]{hidden}));
        if (!tied) {
            s.add(new TensorSpec("lm_head.weight", dtype, new long[]{vocab, hidden}));
        }
        return s;
    }

    /** Writes the pivot model: uniform values in [-0.05, 0.05] (norms around 1), seeded per tensor. */
    public Path write(Path dir, long seed) {
        return writeVariant(dir, seed, 0, 0f, defaultTokens(), Long.MAX_VALUE);
    }

    /** Writes base(seed) + scale * noise(deltaSeed), the same pivot fine-tuned differently. */
    public Path writeVariant(Path dir, long seed, long deltaSeed, float scale) {
        return writeVariant(dir, seed, deltaSeed, scale, defaultTokens(), Long.MAX_VALUE);
    }

    /**
     * Writes a variant with a given vocabulary (token of each id) and shard size.
     */
    public Path writeVariant(Path dir, long seed, long deltaSeed, float scale, String[] tokens, long maxShardBytes) {
        try {
            Files.createDirectories(dir);
            writeConfig(dir);
            writeTokenizer(dir, tokens);
            List<TensorSpec> specs = specs();
            try (ShardedCheckpointWriter w = ShardedCheckpointWriter.create(dir, specs, maxShardBytes)) {
                specs.parallelStream().forEach(spec -> w.write(spec.name(), values(spec, seed, deltaSeed, scale)));
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static float[] values(TensorSpec spec, long seed, long deltaSeed, float scale) {
        float[] v = new float[(int) spec.numel()];
        boolean norm = spec.shape().length == 1;
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + spec.name().hashCode());
        for (int i = 0; i < v.length; i++) {
            v[i] = (norm ? 1f : 0f) + (float) (r.nextDouble() - 0.5) * 0.1f;
        }
        if (scale != 0) {
            SplittableRandom d = new SplittableRandom(deltaSeed * 1_000_003L + spec.name().hashCode());
            for (int i = 0; i < v.length; i++) {
                v[i] += (float) (d.nextDouble() - 0.5) * scale;
            }
        }
        return v;
    }

    /** Token of each id: "<s>", "</s>", then "tok2", "tok3", ... */
    public String[] defaultTokens() {
        return IntStream.range(0, vocab).mapToObj(i -> i == 0 ? "<s>" : i == 1 ? "</s>" : "tok" + i)
                .toArray(String[]::new);
    }

    private void writeConfig(Path dir) throws IOException {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("model_type", "llama");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("vocab_size", vocab);
        c.put("tie_word_embeddings", tied);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("max_position_embeddings", 128);
        c.put("torch_dtype", dtype == DType.BF16 ? "bfloat16" : dtype == DType.F16 ? "float16" : "float32");
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(c));
    }

    private static void writeTokenizer(Path dir, String[] tokens) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int i = 2; i < tokens.length; i++) {
            vocab.put(tokens[i], i);
        }
        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("version", "1.0");
        tok.put("added_tokens", List.of(Map.of("id", 0, "content", tokens[0], "special", true),
                Map.of("id", 1, "content", tokens[1], "special", true)));
        tok.put("model", Map.of("type", "BPE", "vocab", vocab, "merges", List.of()));
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(tok));
        Files.writeString(dir.resolve("tokenizer_config.json"), JSON.writeValueAsString(
                Map.of("bos_token", tokens[0], "eos_token", tokens[1], "model_max_length", 128)));
        Files.writeString(dir.resolve("generation_config.json"), "{\"bos_token_id\": 0, \"eos_token_id\": 1}\n");
    }
}
