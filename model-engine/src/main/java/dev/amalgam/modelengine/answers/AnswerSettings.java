package dev.amalgam.modelengine.answers;

/**
 * How the answers are generated: the decoding settings (Hugging Face's meaning) and the batching.
 *
 * @param maxNewTokens upper bound on the tokens of each answer (each turn), >= 1
 * @param temperature one temperature for every question, or null for the benchmark's own choice
 *                    ({@link BenchmarkFormat#defaultTemperature}: MT-Bench's per-category table)
 * @param topP nucleus mass in (0, 1]; 1 disables
 * @param topK keep the k most likely tokens; 0 disables
 * @param seed the seed every answer's random stream derives from ({@link BenchmarkAnswers#rowSeed})
 * @param choices answers per question (MT-Bench's and Arena-Hard's {@code num_choices}), >= 1
 * @param systemPrompt a system message put before every conversation, or null for none
 * @param batchSize conversations decoded together, >= 1
 */
public record AnswerSettings(int maxNewTokens, Double temperature, double topP, int topK, long seed, int choices,
        String systemPrompt, int batchSize) {

    public AnswerSettings {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
        }
        if (temperature != null && (!(temperature >= 0) || temperature.isInfinite())) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        }
        if (choices < 1) {
            throw new IllegalArgumentException("choices must be >= 1, got " + choices);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        }
    }

    /** The benchmark's defaults ({@link BenchmarkFormat}): its max tokens, temperature, top-p and top-k; seed 0. */
    public static AnswerSettings defaults(BenchmarkFormat format) {
        return new AnswerSettings(format.defaultMaxNewTokens(), null, 1.0, format.defaultTopK(), 0, 1, null, 8);
    }
}
