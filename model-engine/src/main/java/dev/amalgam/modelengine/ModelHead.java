package dev.amalgam.modelengine;

/** What sits on top of the decoder: a language-model head or a sequence-classification (reward) head. */
public enum ModelHead {
    /** {@code lm_head} (or the tied embedding) giving next-token logits. */
    CAUSAL_LM("ForCausalLM"),
    /** {@code score} projection read at the last real token, giving {@code num_labels} scalars per sequence. */
    SEQUENCE_CLASSIFICATION("ForSequenceClassification");

    private final String classSuffix;

    ModelHead(String classSuffix) {
        this.classSuffix = classSuffix;
    }

    String classSuffix() {
        return classSuffix;
    }

    static ModelHead fromClassName(String className) {
        return className.endsWith(SEQUENCE_CLASSIFICATION.classSuffix) ? SEQUENCE_CLASSIFICATION : CAUSAL_LM;
    }
}
