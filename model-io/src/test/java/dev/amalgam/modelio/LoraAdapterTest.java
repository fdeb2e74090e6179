package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEFT adapters applied as merge_and_unload does, each expected tensor computed here by a naive triple loop
 * (the sum over the rank in order, in FP32, then {@code W + scale * sum}).
 */
class LoraAdapterTest {

    @TempDir
    Path dir;

    private final Random random = new Random(7);

    private float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    /** W' = W + scale * (B @ A) for W [out, in], B [out, r], A [r, in]; transposed delta when {@code t}. */
    static float[] naive(float[] w, float[] b, float[] a, int out, int in, int r, float scale, boolean t) {
        float[] res = w.clone();
        int rows = t ? in : out;
        int cols = t ? out : in;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float s = 0f;
                for (int k = 0; k < r; k++) {
                    s += t ? b[j * r + k] * a[k * in + i] : b[i * r + k] * a[k * in + j];
                }
                res[i * cols + j] += scale * s;
            }
        }
        return res;
    }

    /** A safetensors file of F32 tensors, names in order. */
    static void writeF32(Path file, Map<String, long[]> shapes, Map<String, float[]> values) {
        StringBuilder h = new StringBuilder("{");
        NaiveSafetensors.Bytes d = new NaiveSafetensors.Bytes();
        long off = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            float[] v = values.get(e.getKey());
            if (h.length() > 1) {
                h.append(',');
            }
            h.append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":")
                    .append(java.util.Arrays.toString(e.getValue()).replace(" ", "")).append(",\"data_offsets\":[")
                    .append(off).append(',').append(off + 4L * v.length).append("]}");
            d.f32(v);
            off += 4L * v.length;
        }
        NaiveSafetensors.write(file, h.append('}').toString(), d.toArray());
    }

    private record Fixture(Path model, Path adapter, float[] q, float[] k, float[] bq, float[] aq, float[] bk,
                           float[] ak, float[] norm) {
    }

    /** A model with q_proj [6, 4], k_proj [2, 4] and a norm; an adapter of rank 2 on q_proj and k_proj. */
    private Fixture fixture(String adapterConfig) throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{\"architectures\":[\"LlamaForCausalLM\"]}");
        float[] q = random(24);
        float[] k = random(8);
        float[] norm = random(4);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.layers.0.self_attn.q_proj.weight", new long[] {6, 4});
        shapes.put("model.layers.0.self_attn.k_proj.weight", new long[] {2, 4});
        shapes.put("model.norm.weight", new long[] {4});
        writeF32(model.resolve("model.safetensors"), shapes, Map.of("model.layers.0.self_attn.q_proj.weight", q,
                "model.layers.0.self_attn.k_proj.weight", k, "model.norm.weight", norm));

        Path adapter = Files.createDirectories(dir.resolve("adapter"));
        Files.writeString(adapter.resolve("adapter_config.json"), adapterConfig);
        float[] aq = random(8);
        float[] bq = random(12);
        float[] ak = random(8);
        float[] bk = random(4);
        String p = "base_model.model.model.layers.0.self_attn.";
        Map<String, long[]> as = new LinkedHashMap<>();
        as.put(p + "q_proj.lora_A.weight", new long[] {2, 4});
        as.put(p + "q_proj.lora_B.weight", new long[] {6, 2});
        as.put(p + "k_proj.lora_A.weight", new long[] {2, 4});
        as.put(p + "k_proj.lora_B.weight", new long[] {2, 2});
        writeF32(adapter.resolve("adapter_model.safetensors"), as, Map.of(p + "q_proj.lora_A.weight", aq,
                p + "q_proj.lora_B.weight", bq, p + "k_proj.lora_A.weight", ak, p + "k_proj.lora_B.weight", bk));
        return new Fixture(model, adapter, q, k, bq, aq, bk, ak, norm);
    }

    @Test
    void appliesWPlusAlphaOverRTimesBA() throws IOException {
        Fixture f = fixture("{\"peft_type\":\"LORA\",\"r\":2,\"lora_alpha\":16,"
                + "\"target_modules\":[\"q_proj\",\"k_proj\"],\"use_rslora\":false,\"fan_in_fan_out\":false}");
        try (HfModelDir m = HfModelDir.open(f.model(), f.adapter())) {
            Tensor q = m.tensor("model.layers.0.self_attn.q_proj.weight");
            assertThat(q.dtype()).isEqualTo(DType.F32);
            assertThat(q.toFloatArray()).containsExactly(naive(f.q(), f.bq(), f.aq(), 6, 4, 2, 8f, false));
            assertThat(m.tensor("model.layers.0.self_attn.k_proj.weight").toFloatArray())
                    .containsExactly(naive(f.k(), f.bk(), f.ak(), 2, 4, 2, 8f, false));
            // unadapted tensors read as stored
            assertThat(m.tensor("model.norm.weight").toFloatArray()).containsExactly(f.norm());
            assertThat(m.adaptedTensors()).containsExactlyInAnyOrder("model.layers.0.self_attn.q_proj.weight",
                    "model.layers.0.self_attn.k_proj.weight");
            // a read by range gives the same elements as the whole read (the executor reads chunks)
            float[] part = new float[5];
            q.readFloats(3, part, 0, 5);
            float[] whole = q.toFloatArray();
            assertThat(part).containsExactly(java.util.Arrays.copyOfRange(whole, 3, 8));
        }
        // the base model alone is untouched
        try (HfModelDir m = HfModelDir.open(f.model())) {
            assertThat(m.tensor("model.layers.0.self_attn.q_proj.weight").toFloatArray()).containsExactly(f.q());
        }
    }

    @Test
    void rsLoraScalesByAlphaOverSqrtRAndPatternsOverrideAlpha() throws IOException {
        Fixture f = fixture("{\"r\":2,\"lora_alpha\":16,\"use_rslora\":true,"
                + "\"alpha_pattern\":{\"k_proj\":4},\"rank_pattern\":{}}");
        try (HfModelDir m = HfModelDir.open(f.model(), f.adapter())) {
            assertThat(m.tensor("model.layers.0.self_attn.q_proj.weight").toFloatArray())
                    .containsExactly(naive(f.q(), f.bq(), f.aq(), 6, 4, 2, (float) (16 / Math.sqrt(2)), false));
            assertThat(m.tensor("model.layers.0.self_attn.k_proj.weight").toFloatArray())
                    .containsExactly(naive(f.k(), f.bk(), f.ak(), 2, 4, 2, (float) (4 / Math.sqrt(2)), false));
        }
    }

    @Test
    void fanInFanOutTransposesTheDeltaForConv1DWeights() throws IOException {
        // GPT-2's Conv1D c_attn stores [in, out] = [4, 6]; lora_A is [r, in], lora_B [out, r]
        Path model = Files.createDirectories(dir.resolve("gpt2"));
        float[] w = random(24);
        writeF32(model.resolve("model.safetensors"), Map.of("h.0.attn.c_attn.weight", new long[] {4, 6}),
                Map.of("h.0.attn.c_attn.weight", w));
        Path adapter = Files.createDirectories(dir.resolve("gpt2-lora"));
        Files.writeString(adapter.resolve("adapter_config.json"), "{\"r\":2,\"lora_alpha\":2,\"fan_in_fan_out\":true}");
        float[] a = random(8);
        float[] b = random(12);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("base_model.model.h.0.attn.c_attn.lora_A.weight", new long[] {2, 4});
        shapes.put("base_model.model.h.0.attn.c_attn.lora_B.weight", new long[] {6, 2});
        writeF32(adapter.resolve("adapter_model.safetensors"), shapes, Map.of(
                "base_model.model.h.0.attn.c_attn.lora_A.weight", a, "base_model.model.h.0.attn.c_attn.lora_B.weight", b));
        try (HfModelDir m = HfModelDir.open(model, adapter)) {
            assertThat(m.tensor("h.0.attn.c_attn.weight").toFloatArray())
                    .containsExactly(naive(w, b, a, 6, 4, 2, 1f, true));
        }
        // without fan_in_fan_out the shapes do not fit, and the message says what to set
        Files.writeString(adapter.resolve("adapter_config.json"), "{\"r\":2,\"lora_alpha\":2}");
        assertThatThrownBy(() -> HfModelDir.open(model, adapter)).hasMessageContaining("fan_in_fan_out: true");
    }

    @Test
    void embeddingLorasAreTransposedAndLoraBiasIsAddedTimesTheScale() throws IOException {
        // embed_tokens [vocab 5, dim 3]: lora_embedding_A [r, vocab], lora_embedding_B [dim, r], delta = (B @ A)^T
        Path model = Files.createDirectories(dir.resolve("emb"));
        float[] emb = random(15);
        float[] w = random(6);
        float[] bias = random(2);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[] {5, 3});
        shapes.put("lm_head.weight", new long[] {2, 3});
        shapes.put("lm_head.bias", new long[] {2});
        writeF32(model.resolve("model.safetensors"), shapes, Map.of("model.embed_tokens.weight", emb,
                "lm_head.weight", w, "lm_head.bias", bias));
        Path adapter = Files.createDirectories(dir.resolve("emb-lora"));
        Files.writeString(adapter.resolve("adapter_config.json"), "{\"r\":2,\"lora_alpha\":3,\"lora_bias\":true}");
        float[] ea = random(10);
        float[] eb = random(6);
        float[] ha = random(6);
        float[] hb = random(4);
        float[] hbias = random(2);
        Map<String, long[]> as = new LinkedHashMap<>();
        as.put("base_model.model.model.embed_tokens.lora_embedding_A", new long[] {2, 5});
        as.put("base_model.model.model.embed_tokens.lora_embedding_B", new long[] {3, 2});
        as.put("base_model.model.lm_head.lora_A.weight", new long[] {2, 3});
        as.put("base_model.model.lm_head.lora_B.weight", new long[] {2, 2});
        as.put("base_model.model.lm_head.lora_B.bias", new long[] {2});
        writeF32(adapter.resolve("adapter_model.safetensors"), as, Map.of(
                "base_model.model.model.embed_tokens.lora_embedding_A", ea,
                "base_model.model.model.embed_tokens.lora_embedding_B", eb,
                "base_model.model.lm_head.lora_A.weight", ha, "base_model.model.lm_head.lora_B.weight", hb,
                "base_model.model.lm_head.lora_B.bias", hbias));
        try (HfModelDir m = HfModelDir.open(model, adapter)) {
            // as a Linear [out = dim 3, in = vocab 5] with the delta transposed onto [vocab, dim]
            assertThat(m.tensor("model.embed_tokens.weight").toFloatArray())
                    .containsExactly(naive(emb, eb, ea, 3, 5, 2, 1.5f, true));
            assertThat(m.tensor("lm_head.weight").toFloatArray()).containsExactly(naive(w, hb, ha, 2, 3, 2, 1.5f, false));
            float[] expectedBias = bias.clone();
            for (int i = 0; i < 2; i++) {
                expectedBias[i] += hbias[i] * 1.5f;
            }
            assertThat(m.tensor("lm_head.bias").toFloatArray()).containsExactly(expectedBias);
            assertThat(m.info("lm_head.bias").dtype()).isEqualTo(DType.F32);
        }
    }

    @Test
    void refusesAdaptersItCannotApplyNamingTheProblem() throws IOException {
        Fixture f = fixture("{\"r\":2,\"lora_alpha\":16,\"use_dora\":true}");
        assertThatThrownBy(() -> HfModelDir.open(f.model(), f.adapter())).hasMessageContaining("use_dora");
        Files.writeString(f.adapter().resolve("adapter_config.json"), "{\"r\":3,\"lora_alpha\":16}");
        assertThatThrownBy(() -> HfModelDir.open(f.model(), f.adapter())).hasMessageContaining("rank r = 3");
        Files.writeString(f.adapter().resolve("adapter_config.json"), "{\"r\":2,\"lora_alpha\":\"x\"}");
        assertThatThrownBy(() -> HfModelDir.open(f.model(), f.adapter())).hasMessageContaining("lora_alpha must be");
        Files.writeString(f.adapter().resolve("adapter_config.json"), "{\"peft_type\":\"IA3\",\"r\":2}");
        assertThatThrownBy(() -> HfModelDir.open(f.model(), f.adapter())).hasMessageContaining("peft_type IA3");
        Files.delete(f.adapter().resolve("adapter_config.json"));
        assertThatThrownBy(() -> HfModelDir.open(f.model(), f.adapter())).hasMessageContaining("no adapter_config.json");
    }

    @Test
    void refusesAnAdapterForModulesTheModelLacks() throws IOException {
        Fixture f = fixture("{\"r\":2,\"lora_alpha\":16}");
        Path other = Files.createDirectories(dir.resolve("other"));
        writeF32(other.resolve("model.safetensors"), Map.of("model.norm.weight", new long[] {4}),
                Map.of("model.norm.weight", new float[4]));
        assertThatThrownBy(() -> HfModelDir.open(other, f.adapter()))
                .hasMessageContaining("no weight 'model.layers.0.self_attn.");
    }

    @Test
    void readsAnAdapterStoredAsAdapterModelBin() throws IOException {
        Fixture f = fixture("{\"r\":2,\"lora_alpha\":4}");
        // the same factors as a torch.save zip
        Path bin = Files.createDirectories(dir.resolve("bin-adapter"));
        Files.copy(f.adapter().resolve("adapter_config.json"), bin.resolve("adapter_config.json"));
        String p = "base_model.model.model.layers.0.self_attn.";
        Map<String, TorchBinWriter.Storage> storages = new LinkedHashMap<>();
        storages.put("0", new TorchBinWriter.Storage("FloatStorage", 4, TorchBinWriter.bytes(DType.F32, f.aq())));
        storages.put("1", new TorchBinWriter.Storage("FloatStorage", 4, TorchBinWriter.bytes(DType.F32, f.bq())));
        TorchBinWriter.write(bin.resolve("adapter_model.bin"), List.of(
                TorchBinWriter.Entry.contiguous(p + "q_proj.lora_A.weight", "0", 0, 2, 4),
                TorchBinWriter.Entry.contiguous(p + "q_proj.lora_B.weight", "1", 0, 6, 2)), storages);
        try (HfModelDir m = HfModelDir.open(f.model(), bin)) {
            assertThat(m.tensor("model.layers.0.self_attn.q_proj.weight").toFloatArray())
                    .containsExactly(naive(f.q(), f.bq(), f.aq(), 6, 4, 2, 2f, false));
            assertThat(m.tensor("model.layers.0.self_attn.k_proj.weight").toFloatArray()).containsExactly(f.k());
        }
    }
}
