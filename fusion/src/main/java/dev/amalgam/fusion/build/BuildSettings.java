package dev.amalgam.fusion.build;

import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.generate.GenerationConfig;
import java.util.List;

/**
 * How preference data is built.
 *
 * @param sftFraction share of prompts set aside for the target-SFT stage (reference: 1/3)
 * @param targetSamples on-policy samples of the target per preference prompt (reference: 5; at least 2)
 * @param maxNewTokens longest sampled response
 * @param temperature sampling temperature (reference: 0.8)
 * @param topP nucleus mass (reference: 0.95)
 * @param seed split shuffle and sampling seed (prompt i samples with seed + i)
 */
public record BuildSettings(double sftFraction, int targetSamples, int maxNewTokens, double temperature, double topP,
        long seed) {

    /** Upper bounds of what sizes the sampling work (the reference: 5 samples of at most 1024 tokens). */
    public static final int MAX_TARGET_SAMPLES = 64;
    public static final int MAX_NEW_TOKENS = 32_768;

    public BuildSettings {
        if (!(sftFraction >= 0 && sftFraction < 1)) {
            throw new IllegalArgumentException("sftFraction must be in [0, 1), got " + sftFraction);
        }
        if (targetSamples < 2 || targetSamples > MAX_TARGET_SAMPLES) {
            throw new IllegalArgumentException("targetSamples must be between 2 (best and worst) and " + MAX_TARGET_SAMPLES
                    + ", got " + targetSamples);
        }
        if (maxNewTokens > MAX_NEW_TOKENS) {
            throw new IllegalArgumentException("maxNewTokens must be at most " + MAX_NEW_TOKENS + ", got " + maxNewTokens);
        }
        new GenerationConfig(maxNewTokens, temperature, topP, 0, seed, true); // validates the sampling settings
    }

    /** The reference settings: a third for SFT, 5 samples of at most 1024 tokens at T 0.8, top-p 0.95, seed 42. */
    public static BuildSettings reference() {
        return new BuildSettings(1.0 / 3, 5, 1024, 0.8, 0.95, 42);
    }

    /** Problems of these settings on the model that samples, with {@code model} as its config.json. */
    public List<String> validateFor(LlamaConfig model) {
        if (maxNewTokens >= model.maxPositionEmbeddings()) {
            return List.of("maxNewTokens " + maxNewTokens + " leaves no room for a prompt in the model's "
                    + "max_position_embeddings " + model.maxPositionEmbeddings());
        }
        return List.of();
    }

    GenerationConfig sampling(long promptIndex) {
        return new GenerationConfig(maxNewTokens, temperature, topP, 0, seed + promptIndex, true);
    }
}
