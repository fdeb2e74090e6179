package dev.amalgam.modelengine;

import java.util.Arrays;
import java.util.Locale;

/** The Llama-family architectures the engine runs; they differ only in a few config switches. */
public enum Architecture {
    /** Llama 2 and Llama 3 ({@code LlamaForCausalLM}). */
    LLAMA("llama", "Llama"),
    /** Mistral ({@code MistralForCausalLM}), optionally with a sliding attention window. */
    MISTRAL("mistral", "Mistral"),
    /** Qwen2 ({@code Qwen2ForCausalLM}): biases on the q/k/v projections. */
    QWEN2("qwen2", "Qwen2");

    private final String modelType;
    private final String classPrefix;

    Architecture(String modelType, String classPrefix) {
        this.modelType = modelType;
        this.classPrefix = classPrefix;
    }

    /** The {@code model_type} of config.json. */
    public String modelType() {
        return modelType;
    }

    /** The Hugging Face class name for the given head, e.g. {@code Qwen2ForCausalLM}. */
    public String className(ModelHead head) {
        return classPrefix + head.classSuffix();
    }

    /** Parses a {@code model_type} or a command-line name (case-insensitive). */
    public static Architecture fromName(String name) {
        for (Architecture a : values()) {
            if (a.modelType.equalsIgnoreCase(name) || a.name().equalsIgnoreCase(name)) {
                return a;
            }
        }
        throw new UnsupportedModelException("unsupported architecture '" + name + "'; supported: "
                + Arrays.toString(Arrays.stream(values()).map(a -> a.modelType).toArray()));
    }

    /** Parses a Hugging Face class name such as {@code LlamaForSequenceClassification}; null if not ours. */
    static Architecture fromClassName(String className) {
        for (Architecture a : values()) {
            for (ModelHead h : ModelHead.values()) {
                if (a.className(h).equals(className)) {
                    return a;
                }
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return modelType.toLowerCase(Locale.ROOT);
    }
}
