package dev.amalgam.merge;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tensor names and shapes of vision-language checkpoints as they are stored on the Hugging Face Hub (from the
 * transformers modelling code and the published checkpoints' weight maps), spelled out here rather than read from
 * the family files, at tiny widths: text hidden size {@link #H}, vocabulary {@link #V}, vision width {@link #VH}.
 * As {@link TinyLlavaCheckpoint} for Llava; {@link TinyCheckpoint} writes them.
 */
public final class TinyVisionLanguageCheckpoint {

    /** Text hidden size. */
    public static final int H = 8;
    /** Vocabulary size (rows of the input embedding and the head). */
    public static final int V = 16;
    /** Vision width. */
    public static final int VH = 6;
    private static final int I = 12;
    private static final int VI = 10;

    private TinyVisionLanguageCheckpoint() {
    }

    private static long[] s(long... dims) {
        return dims;
    }

    /**
     * A Llama-style decoder layer under {@code p} ({@code ...layers.N.}): norms, q/k/v/o, gate/up/down; with q/k/v
     * biases (Qwen2), q/k norms (Qwen3, Gemma 3) and Gemma's pre/post feed-forward norms when asked.
     */
    static void decoderLayer(Map<String, long[]> t, String p, boolean qkvBias, boolean qkNorm, boolean gemmaNorms,
                             boolean denseMlp) {
        t.put(p + "input_layernorm.weight", s(H));
        for (String proj : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
            t.put(p + "self_attn." + proj + ".weight", s(H, H));
        }
        if (qkvBias) {
            for (String proj : List.of("q_proj", "k_proj", "v_proj")) {
                t.put(p + "self_attn." + proj + ".bias", s(H));
            }
        }
        if (qkNorm) {
            t.put(p + "self_attn.q_norm.weight", s(4));
            t.put(p + "self_attn.k_norm.weight", s(4));
        }
        t.put(p + "post_attention_layernorm.weight", s(H));
        if (gemmaNorms) {
            t.put(p + "pre_feedforward_layernorm.weight", s(H));
            t.put(p + "post_feedforward_layernorm.weight", s(H));
        }
        if (denseMlp) {
            t.put(p + "mlp.gate_proj.weight", s(I, H));
            t.put(p + "mlp.up_proj.weight", s(I, H));
            t.put(p + "mlp.down_proj.weight", s(H, I));
        }
    }

    /** Mistral-Small-3.1 style: Mistral under {@code language_model.}, the Pixtral tower, the patch-merging projector. */
    public static Map<String, long[]> mistral3(int textLayers, int visionLayers) {
        Map<String, long[]> t = new LinkedHashMap<>();
        t.put("language_model.model.embed_tokens.weight", s(V, H));
        for (int l = 0; l < textLayers; l++) {
            decoderLayer(t, "language_model.model.layers." + l + ".", false, false, false, true);
        }
        t.put("language_model.model.norm.weight", s(H));
        t.put("language_model.lm_head.weight", s(V, H));
        t.put("vision_tower.patch_conv.weight", s(VH, 3, 2, 2));
        t.put("vision_tower.ln_pre.weight", s(VH));
        for (int l = 0; l < visionLayers; l++) {
            String p = "vision_tower.transformer.layers." + l + ".";
            t.put(p + "attention_norm.weight", s(VH));
            for (String proj : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                t.put(p + "attention." + proj + ".weight", s(VH, VH));
            }
            t.put(p + "ffn_norm.weight", s(VH));
            t.put(p + "feed_forward.gate_proj.weight", s(VI, VH));
            t.put(p + "feed_forward.up_proj.weight", s(VI, VH));
            t.put(p + "feed_forward.down_proj.weight", s(VH, VI));
        }
        t.put("multi_modal_projector.norm.weight", s(VH));
        t.put("multi_modal_projector.patch_merger.merging_layer.weight", s(VH, 4 * VH));
        t.put("multi_modal_projector.linear_1.weight", s(H, VH));
        t.put("multi_modal_projector.linear_2.weight", s(H, H));
        return t;
    }

    /** Gemma 3 (4B and up): Gemma 3 text under {@code language_model.} with a tied head, SigLIP, the soft-token projector. */
    public static Map<String, long[]> gemma3(int textLayers, int visionLayers) {
        Map<String, long[]> t = new LinkedHashMap<>();
        t.put("language_model.model.embed_tokens.weight", s(V, H));
        for (int l = 0; l < textLayers; l++) {
            decoderLayer(t, "language_model.model.layers." + l + ".", false, true, true, true);
        }
        t.put("language_model.model.norm.weight", s(H));
        String v = "vision_tower.vision_model.";
        t.put(v + "embeddings.patch_embedding.weight", s(VH, 3, 2, 2));
        t.put(v + "embeddings.patch_embedding.bias", s(VH));
        t.put(v + "embeddings.position_embedding.weight", s(4, VH));
        for (int l = 0; l < visionLayers; l++) {
            String p = v + "encoder.layers." + l + ".";
            for (String proj : List.of("q_proj", "k_proj", "v_proj", "out_proj")) {
                t.put(p + "self_attn." + proj + ".weight", s(VH, VH));
                t.put(p + "self_attn." + proj + ".bias", s(VH));
            }
            t.put(p + "layer_norm1.weight", s(VH));
            t.put(p + "layer_norm1.bias", s(VH));
            t.put(p + "mlp.fc1.weight", s(VI, VH));
            t.put(p + "mlp.fc1.bias", s(VI));
            t.put(p + "mlp.fc2.weight", s(VH, VI));
            t.put(p + "mlp.fc2.bias", s(VH));
            t.put(p + "layer_norm2.weight", s(VH));
            t.put(p + "layer_norm2.bias", s(VH));
        }
        t.put(v + "post_layernorm.weight", s(VH));
        t.put(v + "post_layernorm.bias", s(VH));
        t.put("multi_modal_projector.mm_input_projection_weight", s(VH, H));
        t.put("multi_modal_projector.mm_soft_emb_norm.weight", s(VH));
        return t;
    }

    /**
     * Qwen2-VL ({@code v25} false) or Qwen2.5-VL ({@code v25} true): the Qwen2 text model at the top level
     * ({@code model.*}, {@code lm_head}; none when {@code tied}), the vision blocks and the patch merger under
     * {@code visual.}. Qwen2.5-VL's vision blocks have RMS norms and a gated MLP with biases.
     */
    public static Map<String, long[]> qwen2Vl(int textLayers, int visionLayers, boolean v25, boolean tied) {
        Map<String, long[]> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", s(V, H));
        for (int l = 0; l < textLayers; l++) {
            decoderLayer(t, "model.layers." + l + ".", true, false, false, true);
        }
        t.put("model.norm.weight", s(H));
        if (!tied) {
            t.put("lm_head.weight", s(V, H));
        }
        t.put("visual.patch_embed.proj.weight", s(VH, 3, 2, 2, 2));
        for (int l = 0; l < visionLayers; l++) {
            String p = "visual.blocks." + l + ".";
            t.put(p + "norm1.weight", s(VH));
            t.put(p + "norm2.weight", s(VH));
            if (!v25) {
                t.put(p + "norm1.bias", s(VH));
                t.put(p + "norm2.bias", s(VH));
            }
            t.put(p + "attn.qkv.weight", s(3 * VH, VH));
            t.put(p + "attn.qkv.bias", s(3 * VH));
            t.put(p + "attn.proj.weight", s(VH, VH));
            t.put(p + "attn.proj.bias", s(VH));
            if (v25) {
                t.put(p + "mlp.gate_proj.weight", s(VI, VH));
                t.put(p + "mlp.gate_proj.bias", s(VI));
                t.put(p + "mlp.up_proj.weight", s(VI, VH));
                t.put(p + "mlp.up_proj.bias", s(VI));
                t.put(p + "mlp.down_proj.weight", s(VH, VI));
                t.put(p + "mlp.down_proj.bias", s(VH));
            } else {
                t.put(p + "mlp.fc1.weight", s(VI, VH));
                t.put(p + "mlp.fc1.bias", s(VI));
                t.put(p + "mlp.fc2.weight", s(VH, VI));
                t.put(p + "mlp.fc2.bias", s(VH));
            }
        }
        t.put("visual.merger.ln_q.weight", s(VH));
        if (!v25) {
            t.put("visual.merger.ln_q.bias", s(VH));
        }
        t.put("visual.merger.mlp.0.weight", s(4 * VH, 4 * VH));
        t.put("visual.merger.mlp.0.bias", s(4 * VH));
        t.put("visual.merger.mlp.2.weight", s(H, 4 * VH));
        t.put("visual.merger.mlp.2.bias", s(H));
        return t;
    }

    /**
     * Qwen3-VL: the text model under {@code model.language_model.} (dense, or with {@code experts} fused experts:
     * {@code mlp.gate}, {@code mlp.experts.gate_up_proj}, {@code mlp.experts.down_proj}), the vision blocks, the
     * merger and {@code deepstack} DeepStack mergers under {@code model.visual.}, {@code lm_head} at the top.
     */
    public static Map<String, long[]> qwen3Vl(int textLayers, int visionLayers, int deepstack, int experts) {
        Map<String, long[]> t = new LinkedHashMap<>();
        String lm = "model.language_model.";
        t.put(lm + "embed_tokens.weight", s(V, H));
        for (int l = 0; l < textLayers; l++) {
            String p = lm + "layers." + l + ".";
            decoderLayer(t, p, false, true, false, experts == 0);
            if (experts > 0) {
                t.put(p + "mlp.gate.weight", s(experts, H));
                t.put(p + "mlp.experts.gate_up_proj", s(experts, H, 2 * I));
                t.put(p + "mlp.experts.down_proj", s(experts, I, H));
            }
        }
        t.put(lm + "norm.weight", s(H));
        t.put("lm_head.weight", s(V, H));
        String v = "model.visual.";
        t.put(v + "patch_embed.proj.weight", s(VH, 3, 2, 2, 2));
        t.put(v + "patch_embed.proj.bias", s(VH));
        t.put(v + "pos_embed.weight", s(9, VH));
        for (int l = 0; l < visionLayers; l++) {
            String p = v + "blocks." + l + ".";
            for (String w : List.of("norm1", "norm2")) {
                t.put(p + w + ".weight", s(VH));
                t.put(p + w + ".bias", s(VH));
            }
            t.put(p + "attn.qkv.weight", s(3 * VH, VH));
            t.put(p + "attn.qkv.bias", s(3 * VH));
            t.put(p + "attn.proj.weight", s(VH, VH));
            t.put(p + "attn.proj.bias", s(VH));
            t.put(p + "mlp.linear_fc1.weight", s(VI, VH));
            t.put(p + "mlp.linear_fc1.bias", s(VI));
            t.put(p + "mlp.linear_fc2.weight", s(VH, VI));
            t.put(p + "mlp.linear_fc2.bias", s(VH));
        }
        for (int d = -1; d < deepstack; d++) {
            String p = d < 0 ? v + "merger." : v + "deepstack_merger_list." + d + ".";
            t.put(p + "norm.weight", s(4 * VH));
            t.put(p + "norm.bias", s(4 * VH));
            t.put(p + "linear_fc1.weight", s(4 * VH, 4 * VH));
            t.put(p + "linear_fc1.bias", s(4 * VH));
            t.put(p + "linear_fc2.weight", s(H, 4 * VH));
            t.put(p + "linear_fc2.bias", s(H));
        }
        return t;
    }

    /**
     * Llama 4 (Maverick-style interleaving): text layers under {@code language_model.model.layers.}, even layers
     * dense ({@code feed_forward.gate/up/down_proj}), odd ones MoE (router, fused {@code experts.gate_up_proj} /
     * {@code experts.down_proj}, shared expert); the projector's {@code linear_1}; the vision model under
     * {@code vision_model.} with its layers under {@code vision_model.model.layers.}.
     */
    public static Map<String, long[]> llama4(int textLayers, int visionLayers, int experts) {
        Map<String, long[]> t = new LinkedHashMap<>();
        t.put("language_model.model.embed_tokens.weight", s(V, H));
        for (int l = 0; l < textLayers; l++) {
            String p = "language_model.model.layers." + l + ".";
            decoderLayer(t, p, false, false, false, false);
            if (l % 2 == 0) {
                t.put(p + "feed_forward.gate_proj.weight", s(I, H));
                t.put(p + "feed_forward.up_proj.weight", s(I, H));
                t.put(p + "feed_forward.down_proj.weight", s(H, I));
            } else {
                t.put(p + "feed_forward.router.weight", s(experts, H));
                t.put(p + "feed_forward.experts.gate_up_proj", s(experts, H, 2 * I));
                t.put(p + "feed_forward.experts.down_proj", s(experts, I, H));
                t.put(p + "feed_forward.shared_expert.gate_proj.weight", s(I, H));
                t.put(p + "feed_forward.shared_expert.up_proj.weight", s(I, H));
                t.put(p + "feed_forward.shared_expert.down_proj.weight", s(H, I));
            }
        }
        t.put("language_model.model.norm.weight", s(H));
        t.put("language_model.lm_head.weight", s(V, H));
        t.put("multi_modal_projector.linear_1.weight", s(H, VH));
        String v = "vision_model.";
        t.put(v + "class_embedding", s(VH));
        t.put(v + "patch_embedding.linear.weight", s(VH, 12));
        t.put(v + "positional_embedding_vlm", s(5, VH));
        t.put(v + "layernorm_pre.weight", s(VH));
        t.put(v + "layernorm_pre.bias", s(VH));
        for (int l = 0; l < visionLayers; l++) {
            String p = v + "model.layers." + l + ".";
            for (String w : List.of("input_layernorm", "post_attention_layernorm")) {
                t.put(p + w + ".weight", s(VH));
                t.put(p + w + ".bias", s(VH));
            }
            for (String proj : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                t.put(p + "self_attn." + proj + ".weight", s(VH, VH));
                t.put(p + "self_attn." + proj + ".bias", s(VH));
            }
            t.put(p + "mlp.fc1.weight", s(VI, VH));
            t.put(p + "mlp.fc1.bias", s(VI));
            t.put(p + "mlp.fc2.weight", s(VH, VI));
            t.put(p + "mlp.fc2.bias", s(VH));
        }
        t.put(v + "layernorm_post.weight", s(VH));
        t.put(v + "layernorm_post.bias", s(VH));
        t.put(v + "vision_adapter.mlp.fc1.weight", s(VI, VH));
        t.put(v + "vision_adapter.mlp.fc2.weight", s(H, VI));
        return t;
    }
}
