package dev.amalgam.modelengine;

/**
 * What sits on top of the decoder: a language-model head, a sequence-classification (reward) head, or ArmoRM's
 * multi-objective reward head with gating.
 */
public enum ModelHead {
    /** {@code lm_head} (or the tied embedding) giving next-token logits. */
    CAUSAL_LM("ForCausalLM"),
    /** {@code score} projection read at the last real token, giving {@code num_labels} scalars per sequence. */
    SEQUENCE_CLASSIFICATION("ForSequenceClassification"),
    /**
     * ArmoRM's {@code LlamaForRewardModelWithGating}: no token head on the decoder; its {@code regression_layer},
     * {@code gating} network and {@code reward_transform_matrix} are read and applied by
     * {@link dev.amalgam.modelengine.reward.GatedRewardModel}.
     */
    REWARD_MODEL_WITH_GATING("ForRewardModelWithGating");

    private final String classSuffix;

    ModelHead(String classSuffix) {
        this.classSuffix = classSuffix;
    }

    String classSuffix() {
        return classSuffix;
    }

    static ModelHead fromClassName(String className) {
        for (ModelHead h : values()) {
            if (h != CAUSAL_LM && className.endsWith(h.classSuffix)) {
                return h;
            }
        }
        return CAUSAL_LM;
    }
}
