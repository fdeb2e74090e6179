package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The generate job spec (version 1): a model answers a benchmark's question file, and the answers are written as the
 * benchmark's answer file (MT-Bench, AlpacaEval, Arena-Hard), published as a DATASET. Null numbers take the
 * benchmark's defaults (see {@link dev.amalgam.modelengine.answers.BenchmarkFormat}).
 *
 * @param model the MODEL that answers (it must have a chat template)
 * @param questions the DATASET that is the question file (one JSONL file; AlpacaEval's may be a JSON array)
 * @param format mt_bench, alpaca_eval or arena_hard
 * @param name the name of the DATASET the answer file is published as
 * @param modelId the model's name inside the answer file; default the model artifact's name with '/' as '_'
 * @param maxNewTokens tokens per answer, 1..131072; default the benchmark's (1024, 2048, 4096)
 * @param temperature one temperature for all questions, 0..100; default the benchmark's (MT-Bench: by category)
 * @param topP nucleus mass in (0, 1]; default 1.0
 * @param topK 0 (off) .. 1000000; default the benchmark's (50 for mt_bench and alpaca_eval, 0 for arena_hard)
 * @param seed seed of the sampling streams; default 0
 * @param choices answers per question (mt_bench only), 1..100; default 1
 * @param systemPrompt a system message before every conversation; default none
 * @param batchSize conversations decoded together, 1..1024; default 8
 * @param limit only the first limit questions; default all
 */
@Schema(description = "Answers of a model to a benchmark's questions, written as the benchmark's answer file",
        example = """
                {"model": "llama-a", "questions": "mt-bench-questions", "format": "mt_bench", "name": "llama-a-mt-bench",
                 "maxNewTokens": 1024, "batchSize": 8, "seed": 0}""")
public record GenerateJobSpec(
        @Schema(description = "MODEL artifact id or name (with a chat template)", requiredMode = Schema.RequiredMode.REQUIRED)
        String model,
        @Schema(description = "DATASET id or name: the benchmark's question file (MT-Bench / Arena-Hard question.jsonl, "
                + "AlpacaEval's eval set as JSON or JSONL)", requiredMode = Schema.RequiredMode.REQUIRED) String questions,
        @Schema(description = "the benchmark", requiredMode = Schema.RequiredMode.REQUIRED,
                allowableValues = {"mt_bench", "alpaca_eval", "arena_hard"}) String format,
        @Schema(description = "name of the DATASET artifact that holds the answer file",
                requiredMode = Schema.RequiredMode.REQUIRED) String name,
        @Schema(description = "the model's name in the answer file (model_id, generator, model) and the file's name; "
                + "default: the model artifact's name with '/' as '_'", nullable = true, pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
        String modelId,
        @Schema(description = "max new tokens per answer; default 1024 (mt_bench), 2048 (alpaca_eval), 4096 (arena_hard)",
                minimum = "1", maximum = "131072", nullable = true) Integer maxNewTokens,
        @Schema(description = "temperature for every question (below 1e-4: greedy); default the benchmark's: MT-Bench by "
                + "category (FastChat's table), AlpacaEval 0.7, Arena-Hard 0", minimum = "0", maximum = "100", nullable = true)
        Double temperature,
        @Schema(description = "top-p", minimum = "0", exclusiveMinimum = true, maximum = "1", defaultValue = "1.0",
                nullable = true) Double topP,
        @Schema(description = "top-k, 0 = off; default 50 (mt_bench, alpaca_eval: transformers' default), 0 (arena_hard)",
                minimum = "0", maximum = "1000000", nullable = true) Integer topK,
        @Schema(description = "seed of the sampling streams", defaultValue = "0", nullable = true) Long seed,
        @Schema(description = "answers per question (mt_bench only)", minimum = "1", maximum = "100", defaultValue = "1",
                nullable = true) Integer choices,
        @Schema(description = "system message before every conversation", nullable = true) String systemPrompt,
        @Schema(description = "conversations decoded together", minimum = "1", maximum = "1024", defaultValue = "8",
                nullable = true) Integer batchSize,
        @Schema(description = "answer only the first limit questions", minimum = "1", maximum = "1000000000", nullable = true)
        Integer limit) {

    static final int MAX_NEW_TOKENS = 131_072;
    static final int MAX_BATCH_SIZE = 1024;
    static final int MAX_CHOICES = 100;
    static final int DEFAULT_BATCH_SIZE = 8;
}
