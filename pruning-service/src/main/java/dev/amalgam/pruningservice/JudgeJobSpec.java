package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The judge job spec (version 1): answer files in a benchmark's own format judged by an OpenAI-compatible chat
 * endpoint with the benchmark's published judge prompts.
 *
 * @param benchmark mt_bench (1..10 grading), alpaca_eval (pairwise, the judge's text), alpaca_eval_weighted
 *                  (pairwise, log-probabilities) or arena_hard (pairwise, two games)
 * @param answers the model's answers: FastChat model_answer JSONL, AlpacaEval outputs, or arena-hard-auto model_answer
 * @param baseline the baseline's answers in the same format (pairwise benchmarks only)
 * @param questions the questions (mt_bench, arena_hard)
 * @param references MT-Bench reference answers in model_answer format (optional; else the questions' reference)
 * @param judge the endpoint
 * @param requestsPerMinute request starts per minute, retries included
 * @param maxRetries retries of a 429, 5xx, refused connection or timeout
 * @param timeoutSeconds the longest one request may take
 * @param parallel requests in flight at once
 * @param name the judgments DATASET; the judgments kept when the endpoint fails go to {@code name-partial}
 */
@Schema(description = "Judging benchmark answers with an OpenAI-compatible chat endpoint (MT-Bench, AlpacaEval, Arena-Hard)",
        example = """
                {"benchmark": "mt_bench", "answers": "mt-bench-tiny", "questions": "mt-bench-questions",
                 "judge": {"url": "https://api.openai.com/v1", "model": "gpt-4", "apiKeyEnv": "OPENAI_API_KEY"},
                 "requestsPerMinute": 60, "maxRetries": 5, "timeoutSeconds": 300, "parallel": 4,
                 "name": "mt-bench-tiny-judged"}""")
public record JudgeJobSpec(
        @Schema(description = "the benchmark and how it is judged", requiredMode = Schema.RequiredMode.REQUIRED,
                allowableValues = {"mt_bench", "alpaca_eval", "alpaca_eval_weighted", "arena_hard"}) String benchmark,
        @Schema(description = "DATASET (one file) id or name: the model's answers in the benchmark's format",
                requiredMode = Schema.RequiredMode.REQUIRED) String answers,
        @Schema(description = "DATASET id or name: the baseline's answers (alpaca_eval*, arena_hard only)", nullable = true)
        String baseline,
        @Schema(description = "DATASET id or name: the questions (mt_bench, arena_hard only)", nullable = true)
        String questions,
        @Schema(description = "DATASET id or name: MT-Bench reference answers in model_answer format (mt_bench only)",
                nullable = true) String references,
        @Schema(description = "the judge endpoint", requiredMode = Schema.RequiredMode.REQUIRED) Endpoint judge,
        @Schema(description = "request starts per minute, retries included", minimum = "0.001", maximum = "100000",
                defaultValue = "60") Double requestsPerMinute,
        @Schema(description = "retries of HTTP 429, 5xx, a refused connection or a timeout", minimum = "0", maximum = "20",
                defaultValue = "5") Integer maxRetries,
        @Schema(description = "the longest one request may take, in seconds", minimum = "1", maximum = "3600",
                defaultValue = "300") Integer timeoutSeconds,
        @Schema(description = "judge requests in flight at once (their starts still spaced by requestsPerMinute)",
                minimum = "1", maximum = "64", defaultValue = "1") Integer parallel,
        @Schema(description = "name of the judgments DATASET (one JSONL file); name-partial holds what was judged when "
                + "the endpoint fails", requiredMode = Schema.RequiredMode.REQUIRED) String name) {

    static final double DEFAULT_RPM = 60;
    static final int DEFAULT_MAX_RETRIES = 5;
    static final int DEFAULT_TIMEOUT_SECONDS = 300;
    static final int DEFAULT_PARALLEL = 1;
    static final int MAX_PARALLEL = 64;

    /** The DATASET that keeps the judgments made before an endpoint failure. */
    static String partialName(String name) {
        return name + "-partial";
    }

    /**
     * An OpenAI-compatible chat endpoint. The key is never part of the spec: {@code apiKeyEnv} names the environment
     * variable of the worker that holds it, or {@code credential} the tenant's registered credential (at most one).
     *
     * @param url the API root, e.g. {@code https://api.openai.com/v1}; requests go to {@code url/chat/completions}
     * @param model the judge model's name at the endpoint
     * @param apiKeyEnv the environment variable with the Bearer key, ending in {@code API_KEY}; null for none
     * @param credential the name of the tenant's registered credential holding the Bearer key; null for none
     */
    @Schema(description = "An OpenAI-compatible chat endpoint; the key comes from the worker's environment (apiKeyEnv) "
            + "or from a registered credential (credential), at most one of the two")
    public record Endpoint(
            @Schema(description = "API root (http or https); requests go to url/chat/completions",
                    requiredMode = Schema.RequiredMode.REQUIRED) String url,
            @Schema(description = "the judge model's name at the endpoint", requiredMode = Schema.RequiredMode.REQUIRED)
            String model,
            @Schema(description = "name of the worker's environment variable holding the Bearer key (upper case, ending "
                    + "in API_KEY); omit for an endpoint without a key", nullable = true) String apiKeyEnv,
            @Schema(description = "name of the tenant's registered credential (POST /api/v1/credentials) holding the "
                    + "Bearer key, opened on the worker when the job runs; not with apiKeyEnv", nullable = true)
            String credential) {
        /** An endpoint whose key, if any, comes from the worker's environment. */
        public Endpoint(String url, String model, String apiKeyEnv) {
            this(url, model, apiKeyEnv, null);
        }
    }
}
