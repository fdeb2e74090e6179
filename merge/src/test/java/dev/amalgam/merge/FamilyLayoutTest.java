package dev.amalgam.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.job.Progress;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every supported family: a tiny checkpoint in the family's Hugging Face layout (the names spelled out here by
 * hand, from the transformers modelling code, not from the family files), merged linearly, gives exactly the
 * family's tensors: extra tensors (rotary caches, multi-token-prediction layers) are dropped, tied heads stay
 * absent, passthrough tensors are copied from the base.
 */
class FamilyLayoutTest {

    private static final int H = 8;
    private static final int V = 16;
    private static final int LAYERS = 2;

    @TempDir
    Path tmp;

    /**
     * One family's layout.
     *
     * @param arch     config.json architectures[0]
     * @param config   extra config entries
     * @param pre      tensors before the layers
     * @param layer    per-layer suffixes after {@code layerPrefix + i + "."}, for every layer
     * @param perLayer extra tensors of one layer only (index -> suffixes), e.g. dense vs MoE layers
     * @param post     tensors after the layers
     * @param extra    tensors in the checkpoint that the output must not have
     * @param copied   tensors the output copies from the base unchanged
     */
    record Family(String arch, Map<String, Object> config, String layerPrefix, List<String> pre, List<String> layer,
                  Map<Integer, List<String>> perLayer, List<String> post, List<String> extra, List<String> copied) {

        Family(String arch, Map<String, Object> config, String layerPrefix, List<String> pre, List<String> layer,
               List<String> post) {
            this(arch, config, layerPrefix, pre, layer, Map.of(), post, List.of(layerPrefix + "0.self_attn.rotary_emb.inv_freq"),
                    List.of());
        }

        Family withExtra(List<String> e, List<String> c) {
            return new Family(arch, config, layerPrefix, pre, layer, perLayer, post, e, c);
        }

        Family withPerLayer(Map<Integer, List<String>> p) {
            return new Family(arch, config, layerPrefix, pre, layer, p, post, extra, copied);
        }

        Set<String> expected() {
            Set<String> s = new TreeSet<>(pre);
            for (int i = 0; i < LAYERS; i++) {
                for (String x : layer) {
                    s.add(layerPrefix + i + "." + x);
                }
                for (String x : perLayer.getOrDefault(i, List.of())) {
                    s.add(layerPrefix + i + "." + x);
                }
            }
            s.addAll(post);
            s.addAll(copied);
            return s;
        }

        @Override
        public String toString() {
            return arch + (config.containsKey("model_type") ? " (" + config.get("model_type") + ")" : "");
        }
    }

    private static final List<String> ATTN = List.of("self_attn.q_proj.weight", "self_attn.k_proj.weight",
            "self_attn.v_proj.weight", "self_attn.o_proj.weight");
    private static final List<String> MLP = List.of("mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight");
    private static final List<String> EMBED = List.of("model.embed_tokens.weight");
    private static final List<String> POST = List.of("model.norm.weight", "lm_head.weight");
    private static final List<String> TIED_POST = List.of("model.norm.weight");

    @SafeVarargs
    private static List<String> cat(List<String>... parts) {
        List<String> r = new ArrayList<>();
        for (List<String> p : parts) {
            r.addAll(p);
        }
        return r;
    }

    private static List<String> experts(String fmt, int n, String... params) {
        List<String> r = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            for (String p : params) {
                r.add(fmt.formatted(e, p));
            }
        }
        return r;
    }

    static Stream<Family> families() {
        String ml = "model.layers.";
        List<String> llama = cat(List.of("input_layernorm.weight"), ATTN, List.of("post_attention_layernorm.weight"), MLP);
        List<String> qkvBias = List.of("self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias");
        List<String> qkNorm = List.of("self_attn.q_norm.weight", "self_attn.k_norm.weight");
        List<String> gemma2 = cat(llama, List.of("pre_feedforward_layernorm.weight", "post_feedforward_layernorm.weight"));
        List<String> attnBlock = cat(List.of("input_layernorm.weight"), ATTN, List.of("post_attention_layernorm.weight"));
        List<String> gpt2 = List.of("ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                "mlp.c_proj.weight", "mlp.c_proj.bias");
        List<String> mla = List.of("self_attn.q_a_proj.weight", "self_attn.q_a_layernorm.weight",
                "self_attn.q_b_proj.weight", "self_attn.kv_a_proj_with_mqa.weight", "self_attn.kv_a_layernorm.weight",
                "self_attn.kv_b_proj.weight", "self_attn.o_proj.weight");
        String ll = "language_model.model.layers.";
        return Stream.of(
                new Family("LlamaForCausalLM", Map.of(), ml, EMBED, llama, POST),
                new Family("MistralForCausalLM", Map.of(), ml, EMBED, llama, POST),
                new Family("MixtralForCausalLM", Map.of("num_local_experts", 2), ml, EMBED,
                        cat(attnBlock, List.of("block_sparse_moe.gate.weight"),
                                experts("block_sparse_moe.experts.%d.%s.weight", 2, "w1", "w2", "w3")), POST),
                new Family("Qwen2ForCausalLM", Map.of(), ml, EMBED, cat(llama, qkvBias), POST),
                new Family("Qwen3ForCausalLM", Map.of(), ml, EMBED, cat(llama, qkNorm), TIED_POST),
                new Family("Qwen2MoeForCausalLM", Map.of("num_experts", 2), ml, EMBED,
                        cat(attnBlock, qkvBias, List.of("mlp.gate.weight", "mlp.shared_expert_gate.weight"),
                                experts("mlp.experts.%d.%s.weight", 2, "gate_proj", "up_proj", "down_proj"),
                                List.of("mlp.shared_expert.gate_proj.weight", "mlp.shared_expert.up_proj.weight",
                                        "mlp.shared_expert.down_proj.weight")), POST),
                new Family("Qwen3MoeForCausalLM", Map.of("num_experts", 2), ml, EMBED,
                        cat(attnBlock, qkNorm, List.of("mlp.gate.weight"),
                                experts("mlp.experts.%d.%s.weight", 2, "gate_proj", "up_proj", "down_proj")), POST),
                new Family("GemmaForCausalLM", Map.of(), ml, EMBED, llama, TIED_POST),
                new Family("Gemma2ForCausalLM", Map.of(), ml, EMBED, gemma2, TIED_POST),
                new Family("Gemma3ForCausalLM", Map.of("model_type", "gemma3_text"), ml, EMBED, cat(gemma2, qkNorm),
                        TIED_POST),
                new Family("Phi3ForCausalLM", Map.of(), ml, EMBED, List.of("input_layernorm.weight",
                        "self_attn.qkv_proj.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight",
                        "mlp.gate_up_proj.weight", "mlp.down_proj.weight"), POST),
                new Family("GraniteForCausalLM", Map.of(), ml, EMBED, llama, TIED_POST),
                new Family("GPT2LMHeadModel", Map.of("n_layer", LAYERS), "transformer.h.",
                        List.of("transformer.wte.weight", "transformer.wpe.weight"), gpt2,
                        List.of("transformer.ln_f.weight", "transformer.ln_f.bias"))
                        .withExtra(List.of("transformer.h.0.attn.bias"), List.of()),
                new Family("FalconForCausalLM", Map.of(), "transformer.h.", List.of("transformer.word_embeddings.weight"),
                        List.of("ln_attn.weight", "ln_attn.bias", "ln_mlp.weight", "ln_mlp.bias",
                                "self_attention.query_key_value.weight", "self_attention.dense.weight",
                                "mlp.dense_h_to_4h.weight", "mlp.dense_4h_to_h.weight"),
                        List.of("transformer.ln_f.weight", "transformer.ln_f.bias", "lm_head.weight"))
                        .withExtra(List.of(), List.of()),
                new Family("StableLmForCausalLM", Map.of(), ml, EMBED, cat(llama, qkvBias,
                        List.of("input_layernorm.bias", "post_attention_layernorm.bias")),
                        List.of("model.norm.weight", "model.norm.bias", "lm_head.weight")),
                new Family("Olmo2ForCausalLM", Map.of(), ml, EMBED, cat(ATTN, qkNorm, MLP,
                        List.of("post_attention_layernorm.weight", "post_feedforward_layernorm.weight")), POST),
                new Family("CohereForCausalLM", Map.of(), ml, EMBED, cat(List.of("input_layernorm.weight"), ATTN, MLP),
                        TIED_POST),
                new Family("DeepseekV3ForCausalLM", Map.of("n_routed_experts", 2, "first_k_dense_replace", 1), ml,
                        EMBED, cat(List.of("input_layernorm.weight", "post_attention_layernorm.weight"), mla), POST)
                        .withPerLayer(Map.of(0, MLP, 1, cat(List.of("mlp.gate.weight", "mlp.gate.e_score_correction_bias"),
                                experts("mlp.experts.%d.%s.weight", 2, "gate_proj", "up_proj", "down_proj"),
                                List.of("mlp.shared_experts.gate_proj.weight", "mlp.shared_experts.up_proj.weight",
                                        "mlp.shared_experts.down_proj.weight"))))
                        .withExtra(List.of("model.layers.2.eh_proj.weight", "model.layers.2.enorm.weight"), List.of()),
                // every module merged, as mergekit does: the language model, the CLIP tower (its layers are listed
                // here with the weights outside the language model's layers), the projector; position_ids dropped
                new Family("LlavaForConditionalGeneration", Map.of("text_config", Map.of("num_hidden_layers", LAYERS,
                        "vocab_size", V), "vision_config", Map.of("num_hidden_layers", 3)), ll,
                        cat(List.of("language_model.model.embed_tokens.weight"), llavaVision(3)), llama,
                        List.of("language_model.model.norm.weight", "language_model.lm_head.weight"))
                        .withExtra(List.of("vision_tower.vision_model.embeddings.position_ids"), List.of()),
                // the plain decoders ported from mergekit's files
                new Family("ExaoneForCausalLM", Map.of(), "transformer.h.", List.of("transformer.wte.weight"),
                        List.of("ln_1.weight", "attn.attention.q_proj.weight", "attn.attention.k_proj.weight",
                                "attn.attention.v_proj.weight", "attn.attention.out_proj.weight", "ln_2.weight",
                                "mlp.c_fc_0.weight", "mlp.c_fc_1.weight", "mlp.c_proj.weight"),
                        List.of("transformer.ln_f.weight", "lm_head.weight")),
                new Family("InternLM2ForCausalLM", Map.of(), ml, List.of("model.tok_embeddings.weight"),
                        List.of("attention_norm.weight", "attention.wqkv.weight", "attention.wo.weight", "ffn_norm.weight",
                                "feed_forward.w1.weight", "feed_forward.w2.weight", "feed_forward.w3.weight"),
                        List.of("model.norm.weight", "output.weight")),
                new Family("Starcoder2ForCausalLM", Map.of(), ml, EMBED, cat(withBiases(List.of("input_layernorm",
                        "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                        "post_attention_layernorm", "mlp.c_fc", "mlp.c_proj"))),
                        List.of("model.norm.weight", "model.norm.bias")),
                new Family("Glm4ForCausalLM", Map.of(), ml, EMBED, cat(List.of("input_layernorm.weight"), ATTN, qkvBias,
                        List.of("post_self_attn_layernorm.weight", "post_attention_layernorm.weight",
                                "mlp.gate_up_proj.weight", "mlp.down_proj.weight", "post_mlp_layernorm.weight")), POST),
                new Family("GPTNeoXForCausalLM", Map.of(), "gpt_neox.layers.", List.of("gpt_neox.embed_in.weight"),
                        cat(withBiases(List.of("input_layernorm", "post_attention_layernorm", "attention.query_key_value",
                                "attention.dense", "mlp.dense_h_to_4h", "mlp.dense_4h_to_h")),
                                List.of("attention.bias", "attention.masked_bias", "attention.rotary_emb.inv_freq")),
                        List.of("gpt_neox.final_layer_norm.weight", "gpt_neox.final_layer_norm.bias", "embed_out.weight")),
                new Family("Cohere2ForCausalLM", Map.of(), ml, EMBED, cat(List.of("input_layernorm.weight"), ATTN, MLP),
                        TIED_POST),
                new Family("SolarForCausalLM", Map.of(), ml, EMBED, llama, POST),
                new Family("ArceeForCausalLM", Map.of(), ml, EMBED, cat(List.of("input_layernorm.weight"), ATTN,
                        List.of("post_attention_layernorm.weight", "mlp.up_proj.weight", "mlp.down_proj.weight")), POST),
                new Family("ApertusForCausalLM", Map.of(), ml, EMBED, cat(List.of("attention_layernorm.weight"), ATTN,
                        qkNorm, List.of("feedforward_layernorm.weight", "mlp.up_proj.weight", "mlp.down_proj.weight",
                                "mlp.act_fn.alpha_p", "mlp.act_fn.alpha_n", "mlp.act_fn.beta", "mlp.act_fn.eps")), POST),
                new Family("PhiForCausalLM", Map.of("model_type", "phi"), ml, EMBED, withBiases(List.of(
                        "input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.dense",
                        "mlp.fc1", "mlp.fc2")), List.of("model.final_layernorm.weight", "model.final_layernorm.bias",
                        "lm_head.weight", "lm_head.bias")),
                new Family("PhiForCausalLM", Map.of("model_type", "phi-msft", "n_layer", LAYERS), "transformer.h.",
                        List.of("transformer.embd.wte.weight"), withBiases(List.of("ln", "mixer.Wqkv", "mixer.out_proj",
                        "mlp.fc1", "mlp.fc2")), List.of("lm_head.ln.weight", "lm_head.ln.bias", "lm_head.linear.weight",
                        "lm_head.linear.bias")),
                new Family("BaichuanForCausalLM", Map.of(), ml, EMBED, cat(List.of("input_layernorm.weight",
                        "self_attn.W_pack.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight"), MLP), POST),
                new Family("ChatGLMModel", Map.of(), "transformer.encoder.layers.",
                        List.of("transformer.embedding.word_embeddings.weight", "transformer.rotary_pos_emb.inv_freq"),
                        List.of("input_layernorm.weight", "self_attention.query_key_value.weight",
                                "self_attention.query_key_value.bias", "self_attention.dense.weight",
                                "post_attention_layernorm.weight", "mlp.dense_h_to_4h.weight", "mlp.dense_4h_to_h.weight"),
                        List.of("transformer.encoder.final_layernorm.weight", "transformer.output_layer.weight")),
                new Family("GPTBigCodeForCausalLM", Map.of("n_layer", LAYERS), "transformer.h.",
                        List.of("transformer.wte.weight", "transformer.wpe.weight"), gpt2,
                        List.of("transformer.ln_f.weight", "transformer.ln_f.bias")),
                new Family("JAISLMHeadModel", Map.of("n_layer", LAYERS), "transformer.h.",
                        List.of("transformer.wte.weight", "transformer.relative_pe.slopes"), cat(gpt2,
                        List.of("mlp.c_fc2.weight", "mlp.c_fc2.bias")),
                        List.of("transformer.ln_f.weight", "transformer.ln_f.bias")),
                new Family("Phi3SmallForCausalLM", Map.of(), ml, EMBED, withBiases(List.of("input_layernorm",
                        "self_attn.query_key_value", "self_attn.dense", "post_attention_layernorm", "mlp.up_proj",
                        "mlp.down_proj")), List.of("model.final_layernorm.weight", "model.final_layernorm.bias")),
                new Family("QWenLMHeadModel", Map.of(), "transformer.h.", List.of("transformer.wte.weight"),
                        List.of("ln_1.weight", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                                "ln_2.weight", "mlp.w1.weight", "mlp.w2.weight", "mlp.c_proj.weight"),
                        List.of("transformer.ln_f.weight", "lm_head.weight")),
                new Family("MambaForCausalLM", Map.of(), "backbone.layers.", List.of("backbone.embeddings.weight"),
                        List.of("norm.weight", "mixer.A_log", "mixer.D", "mixer.conv1d.weight", "mixer.conv1d.bias",
                                "mixer.in_proj.weight", "mixer.x_proj.weight", "mixer.dt_proj.weight",
                                "mixer.dt_proj.bias", "mixer.out_proj.weight"), List.of("backbone.norm_f.weight")),
                // a Mamba layer, then an attention layer, each with the shared MLP and the fused experts
                new Family("GraniteMoeHybridForCausalLM", Map.of(), ml, EMBED, List.of("input_layernorm.weight",
                        "post_attention_layernorm.weight", "shared_mlp.input_linear.weight",
                        "shared_mlp.output_linear.weight", "block_sparse_moe.input_linear.weight",
                        "block_sparse_moe.output_linear.weight", "block_sparse_moe.router.layer.weight"), TIED_POST)
                        .withPerLayer(Map.of(0, List.of("mamba.A_log", "mamba.D", "mamba.conv1d.weight",
                                "mamba.conv1d.bias", "mamba.dt_bias", "mamba.in_proj.weight", "mamba.norm.weight",
                                "mamba.out_proj.weight"), 1, ATTN)),
                // a short-convolution layer, then an attention layer; the final norm is embedding_norm; tied head
                new Family("Lfm2ForCausalLM", Map.of(), ml, List.of("model.embed_tokens.weight",
                        "model.embedding_norm.weight"), List.of("operator_norm.weight", "ffn_norm.weight",
                        "feed_forward.w1.weight", "feed_forward.w2.weight", "feed_forward.w3.weight"), List.of())
                        .withPerLayer(Map.of(0, List.of("conv.conv.weight", "conv.in_proj.weight", "conv.out_proj.weight"),
                                1, List.of("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                                        "self_attn.out_proj.weight", "self_attn.q_layernorm.weight",
                                        "self_attn.k_layernorm.weight"))));
    }

    /** {@code name.weight} and {@code name.bias} for each name. */
    private static List<String> withBiases(List<String> names) {
        List<String> r = new ArrayList<>();
        for (String n : names) {
            r.add(n + ".weight");
            r.add(n + ".bias");
        }
        return r;
    }

    /** A CLIP vision tower of {@code layers} layers and the two-layer projector, by their checkpoint names. */
    private static List<String> llavaVision(int layers) {
        String v = "vision_tower.vision_model.";
        List<String> res = new ArrayList<>(List.of(v + "embeddings.class_embedding", v + "embeddings.patch_embedding.weight",
                v + "embeddings.position_embedding.weight", v + "pre_layrnorm.weight", v + "pre_layrnorm.bias",
                v + "post_layernorm.weight", v + "post_layernorm.bias", "multi_modal_projector.linear_1.weight",
                "multi_modal_projector.linear_1.bias", "multi_modal_projector.linear_2.weight",
                "multi_modal_projector.linear_2.bias"));
        for (int l = 0; l < layers; l++) {
            for (String w : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                    "layer_norm1", "mlp.fc1", "mlp.fc2", "layer_norm2")) {
                res.add(v + "encoder.layers." + l + "." + w + ".weight");
                res.add(v + "encoder.layers." + l + "." + w + ".bias");
            }
        }
        return res;
    }

    private static long[] shape(String name) {
        if (Stream.of("embed_tokens.weight", "lm_head.weight", "wte.weight", "wpe.weight", "word_embeddings.weight",
                "tok_embeddings.weight", "output.weight", "output_layer.weight", "embed_in.weight", "embed_out.weight",
                "backbone.embeddings.weight", "lm_head.linear.weight").anyMatch(name::endsWith)) {
            return new long[]{V, H};
        }
        if (name.endsWith("e_score_correction_bias")) {
            return new long[]{2};
        }
        boolean vector = name.endsWith(".bias") || name.contains("norm") || name.contains("ln_") || name.endsWith("inv_freq");
        return vector ? new long[]{H} : new long[]{H, H};
    }

    private Path write(Family f, String name, long delta) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of(f.arch()));
        config.put("hidden_size", H);
        config.put("vocab_size", V);
        if (!f.config().containsKey("n_layer") && !f.config().containsKey("text_config")) {
            config.put("num_hidden_layers", LAYERS);
        }
        config.putAll(f.config());
        Map<String, long[]> tensors = new LinkedHashMap<>();
        for (String n : f.expected()) {
            tensors.put(n, shape(n));
        }
        for (String n : f.extra()) {
            tensors.put(n, shape(n));
        }
        return TinyCheckpoint.write(tmp.resolve(name), config, tensors, V, 1, delta);
    }

    private MergeResult merge(String yaml, String out) {
        return new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(tmp), tmp.resolve(out),
                MergeOptions.defaults().withThreads(2), Progress.NONE);
    }

    private static float[] read(Path dir, String tensor) {
        try (HfModelDir m = HfModelDir.open(dir)) {
            return m.tensor(tensor).toFloatArray();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void linearMergeOfTwoTinyModelsWritesExactlyTheFamilysTensors(Family f) {
        write(f, "a", 1);
        write(f, "b", 2);
        MergeResult r = merge("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 3}}]
                dtype: float32
                """, "out");
        try (HfModelDir out = HfModelDir.open(tmp.resolve("out"))) {
            assertThat(new TreeSet<>(out.tensorNames())).isEqualTo(f.expected());
        }
        assertThat(r.warnings()).noneMatch(w -> w.contains("inferred"));
        // every merged tensor is (a + 3 b) / 4; copied tensors are the base's
        for (String n : f.expected()) {
            float[] a = read(tmp.resolve("a"), n);
            float[] b = read(tmp.resolve("b"), n);
            float[] o = read(tmp.resolve("out"), n);
            for (int i = 0; i < o.length; i++) {
                float want = f.copied().contains(n) ? a[i] : (a[i] + 3 * b[i]) / 4;
                assertThat(o[i]).as(n).isCloseTo(want, within(1e-6f));
            }
        }
    }

    @Test
    void anUnknownDecoderIsInferredFromItsTensorNames() {
        Family f = new Family("FooForCausalLM", Map.of(), "backbone.blocks.", List.of("backbone.embed_tokens.weight"),
                List.of("mix.weight", "norm.weight"), List.of("backbone.final_norm.weight", "lm_head.weight"));
        f = f.withExtra(List.of(), List.of());
        write(f, "a", 1);
        write(f, "b", 2);
        MergeResult r = merge("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 1}}]
                """, "out");
        assertThat(r.warnings()).anyMatch(w -> w.contains("inferred") && w.contains("2 layers"));
        assertThat(r.vocabSize()).isEqualTo(V);
        try (HfModelDir out = HfModelDir.open(tmp.resolve("out"))) {
            assertThat(new TreeSet<>(out.tensorNames())).isEqualTo(f.expected());
        }
    }

    @Test
    void aModelWithoutLayerIndicesOrWithTwoStacksIsInferredAsMergekitInfersIt() {
        // no layer index: mergekit's one module of loose weights and no layers (config's layer count not read)
        Family noLayers = new Family("FlatModel", Map.of(), "x.", List.of("embed.weight", "head.weight"), List.of(),
                List.of()).withExtra(List.of(), List.of());
        write(noLayers, "flat", 1);
        MergeResult r = merge("""
                merge_method: linear
                models: [{model: flat, parameters: {weight: 1}}]
                """, "o1");
        assertThat(r.numLayers()).isZero();
        assertThat(r.warnings()).anyMatch(w -> w.contains("inferred") && w.contains("0 layers")
                && w.contains("2 outside the layers"));
        try (HfModelDir out = HfModelDir.open(tmp.resolve("o1"))) {
            assertThat(new TreeSet<>(out.tensorNames())).containsExactly("embed.weight", "head.weight");
        }

        // indices under two prefixes: one module per stack (InferredModulesTest merges such a model in detail)
        Family twoStacks = new Family("TwoStacks", Map.of(), "enc.layers.", List.of("embed.weight"),
                List.of("w.weight"), List.of()).withExtra(List.of("dec.layers.0.w.weight"), List.of());
        write(twoStacks, "two", 1);
        r = merge("""
                merge_method: linear
                models: [{model: two, parameters: {weight: 1}}]
                """, "o2");
        assertThat(r.warnings()).anyMatch(w -> w.contains("3 modules: 'dec.layers' (1 layers")
                && w.contains("'enc.layers' (2 layers") && w.contains("'default' (0 layers"));
        try (HfModelDir out = HfModelDir.open(tmp.resolve("o2"))) {
            assertThat(new TreeSet<>(out.tensorNames())).containsExactly("dec.layers.0.w.weight", "embed.weight",
                    "enc.layers.0.w.weight", "enc.layers.1.w.weight");
        }
    }

    @Test
    void inferenceFailsWithAMessageThatSaysWhy() {
        MergeConfigException e;
        Family wrongCount = new Family("Counted", Map.of("num_hidden_layers", 5), "blocks.", List.of("embed.weight"),
                List.of("w.weight"), List.of()).withExtra(List.of(), List.of());
        write(wrongCount, "counted", 1);
        e = catchThrowableOfType(MergeConfigException.class, () -> merge("""
                merge_method: linear
                models: [{model: counted, parameters: {weight: 1}}]
                """, "o3"));
        assertThat(e.problems()).anyMatch(p -> p.contains("cannot infer") && p.contains("'Counted'")
                && p.contains("num_hidden_layers is 5") && p.contains("number 2 layers (under 'blocks')")
                && p.contains("LlamaForCausalLM"));

        Family two = new Family("Deep", Map.of(), "blocks.", List.of("embed.weight"), List.of("w.weight"), List.of())
                .withExtra(List.of(), List.of());
        write(two, "two", 1);
        write(two.withExtra(List.of("blocks.2.w.weight"), List.of()), "three", 2);
        e = catchThrowableOfType(MergeConfigException.class, () -> merge("""
                merge_method: linear
                models: [{model: two, parameters: {weight: 1}}, {model: three, parameters: {weight: 1}}]
                """, "o4"));
        assertThat(e.problems()).anyMatch(p -> p.contains("cannot infer") && p.contains("'Deep'")
                && p.contains("different layer counts under 'blocks' {two=2, three=3}")
                && p.contains("1 tensors outside the layers"));
    }

    @Test
    void mixtureOfExpertsModelsMustAgreeOnTheExpertCount() {
        Family two = families().filter(f -> f.arch().equals("MixtralForCausalLM")).findFirst().orElseThrow();
        write(two, "a", 1);
        Family three = new Family(two.arch(), Map.of("num_local_experts", 3), two.layerPrefix(), two.pre(),
                cat(two.layer(), List.of("block_sparse_moe.experts.2.w1.weight", "block_sparse_moe.experts.2.w2.weight",
                        "block_sparse_moe.experts.2.w3.weight")), two.post());
        write(three, "b", 2);
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> merge("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 1}}]
                """, "out"));
        assertThat(e.problems()).anyMatch(p -> p.contains("'b' has 3 experts") && p.contains("'a' has 2"));
    }
}
