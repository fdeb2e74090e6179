package dev.amalgam.merge;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensor names and shapes of a Llava checkpoint's vision side as transformers stores them on the Hub
 * (CLIP vision tower under {@code vision_tower.vision_model.}, the two-layer projector), spelled out here rather
 * than read from the family file, so a test can check that the family lists exactly these. The language model's
 * tensors ({@code language_model.model.*}, {@code language_model.lm_head.weight}) are added by the caller.
 */
public final class TinyLlavaCheckpoint {

    private TinyLlavaCheckpoint() {
    }

    /**
     * mergekit's make_picoLlaVa vision side: CLIP with {@code layers} layers of width {@code hidden}, MLP width
     * {@code intermediate}, 3-channel patches of {@code patch} pixels over {@code positions - 1} patches plus the
     * class position; the projector maps {@code hidden} to {@code textHidden}.
     */
    public static Map<String, long[]> visionAndProjector(int hidden, int intermediate, int layers, int patch,
                                                         int positions, int textHidden) {
        Map<String, long[]> t = new LinkedHashMap<>();
        String v = "vision_tower.vision_model.";
        t.put(v + "embeddings.class_embedding", new long[]{hidden});
        t.put(v + "embeddings.patch_embedding.weight", new long[]{hidden, 3, patch, patch});
        t.put(v + "embeddings.position_embedding.weight", new long[]{positions, hidden});
        t.put(v + "pre_layrnorm.weight", new long[]{hidden});
        t.put(v + "pre_layrnorm.bias", new long[]{hidden});
        for (int l = 0; l < layers; l++) {
            String p = v + "encoder.layers." + l + ".";
            for (String proj : new String[]{"q_proj", "k_proj", "v_proj", "out_proj"}) {
                t.put(p + "self_attn." + proj + ".weight", new long[]{hidden, hidden});
                t.put(p + "self_attn." + proj + ".bias", new long[]{hidden});
            }
            t.put(p + "layer_norm1.weight", new long[]{hidden});
            t.put(p + "layer_norm1.bias", new long[]{hidden});
            t.put(p + "mlp.fc1.weight", new long[]{intermediate, hidden});
            t.put(p + "mlp.fc1.bias", new long[]{intermediate});
            t.put(p + "mlp.fc2.weight", new long[]{hidden, intermediate});
            t.put(p + "mlp.fc2.bias", new long[]{hidden});
            t.put(p + "layer_norm2.weight", new long[]{hidden});
            t.put(p + "layer_norm2.bias", new long[]{hidden});
        }
        t.put(v + "post_layernorm.weight", new long[]{hidden});
        t.put(v + "post_layernorm.bias", new long[]{hidden});
        t.put("multi_modal_projector.linear_1.weight", new long[]{textHidden, hidden});
        t.put("multi_modal_projector.linear_1.bias", new long[]{textHidden});
        t.put("multi_modal_projector.linear_2.weight", new long[]{textHidden, textHidden});
        t.put("multi_modal_projector.linear_2.bias", new long[]{textHidden});
        return t;
    }
}
