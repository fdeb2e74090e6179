package dev.amalgam.fusion.build;

import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.generate.GenerationConfig;
import java.util.List;

/**
 * How preference data is built.
 *
 * @param sftFraction share of prompts set aside for the target-SFT stage (WRPO: 1/3; FuseChat-3.0: 0.4)
 * @param targetSamples on-policy samples of the target per preference prompt (reference: 5; at least 2)
 * @param maxNewTokens longest sampled response (reference: 4096); a prompt's samples also stop at the model's
 *     {@code max_position_embeddings}, as vLLM caps them
 * @param temperature sampling temperature (reference: 0.8)
 * @param topP nucleus mass (reference: 0.95)
 * @param seed split shuffle and sampling seed (prompt i samples with seed + i)
 * @param pairRule how a preference prompt's pair is chosen ({@link PairRule})
 * @param minMargin {@code fusechat3}: smallest reward margin of a kept pair (FuseChat-3.0: 0.01)
 * @param maxMargin {@code fusechat3}: largest reward margin of a kept pair (FuseChat-3.0: 0.1)
 */
public record BuildSettings(double sftFraction, int targetSamples, int maxNewTokens, double temperature, double topP,
        long seed, PairRule pairRule, double minMargin, double maxMargin) {

    /** Upper bounds of what sizes the sampling work (the reference: 5 samples of at most 4096 tokens). */
    public static final int MAX_TARGET_SAMPLES = 64;
    public static final int MAX_NEW_TOKENS = 32_768;
    /** FuseChat-3.0's margin window. */
    public static final double FUSECHAT3_MIN_MARGIN = 0.01;
    public static final double FUSECHAT3_MAX_MARGIN = 0.1;

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
        if (pairRule == null) {
            throw new IllegalArgumentException("pairRule must be wrpo or fusechat3");
        }
        if (!(minMargin >= 0) || Double.isInfinite(minMargin)) {
            throw new IllegalArgumentException("minMargin must be a finite number >= 0, got " + minMargin);
        }
        if (!(maxMargin >= minMargin) || Double.isInfinite(maxMargin)) {
            throw new IllegalArgumentException("maxMargin must be a finite number >= minMargin (" + minMargin
                    + "), got " + maxMargin);
        }
        new GenerationConfig(maxNewTokens, temperature, topP, 0, seed, true); // validates the sampling settings
    }

    /** WRPO pairs, FuseChat-3.0's margin window (unused by them). */
    public BuildSettings(double sftFraction, int targetSamples, int maxNewTokens, double temperature, double topP,
            long seed) {
        this(sftFraction, targetSamples, maxNewTokens, temperature, topP, seed, PairRule.WRPO, FUSECHAT3_MIN_MARGIN,
                FUSECHAT3_MAX_MARGIN);
    }

    /** The reference settings: a third for SFT, 5 samples of at most 4096 tokens at T 0.8, top-p 0.95, seed 42. */
    public static BuildSettings reference() {
        return new BuildSettings(1.0 / 3, 5, 4096, 0.8, 0.95, 42);
    }

    /** FuseChat-3.0's construction: SFT:DPO 4:6, same-source best/worst pairs with margins in [0.01, 0.1]. */
    public static BuildSettings fuseChat3() {
        return new BuildSettings(0.4, 5, 4096, 0.8, 0.95, 42, PairRule.FUSECHAT3, FUSECHAT3_MIN_MARGIN,
                FUSECHAT3_MAX_MARGIN);
    }

    /**
     * Problems of these settings on the model that samples, with {@code model} as its config.json: none today, since
     * samples stop at the model's context (kept for the callers that check before queueing).
     */
    public List<String> validateFor(LlamaConfig model) {
        return List.of();
    }

    GenerationConfig sampling(long promptIndex) {
        return new GenerationConfig(maxNewTokens, temperature, topP, 0, seed + promptIndex, true);
    }
}
