package dev.amalgam.modelengine.generate;

/**
 * Decoding settings, with Hugging Face's meaning and order (temperature, then top-k, then top-p).
 *
 * @param maxNewTokens upper bound on generated tokens per sequence
 * @param temperature 0 for greedy decoding, else the softmax temperature
 * @param topP nucleus mass in (0, 1]; 1 disables
 * @param topK keep the k most likely tokens; 0 disables
 * @param seed seed of the sampling random stream (same seed, same samples)
 * @param stopAtEos stop a sequence at its first end-of-sequence token (which is kept in the output)
 */
public record GenerationConfig(int maxNewTokens, double temperature, double topP, int topK, long seed,
        boolean stopAtEos) {

    public GenerationConfig {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        }
    }

    /** Greedy decoding that stops at EOS. */
    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 1, 0, 0, true);
    }

    /** Sampling with temperature and top-p (no top-k) that stops at EOS, e.g. {@code sampling(512, 0.8, 0.95, 42)}. */
    public static GenerationConfig sampling(int maxNewTokens, double temperature, double topP, long seed) {
        return new GenerationConfig(maxNewTokens, temperature, topP, 0, seed, true);
    }

    /** Whether tokens are drawn at random (temperature > 0). */
    public boolean doSample() {
        return temperature > 0;
    }
}
