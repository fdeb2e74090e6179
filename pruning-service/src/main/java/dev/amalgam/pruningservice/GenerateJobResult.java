package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.Schema;
import java.util.Map;

/** The result of a generate job: where the answer file is, what was generated, and every decoding setting used. */
@Schema(description = "The result of a generate job", example = """
        {"answers": "0b7c6c1e-2f4e-4c1e-9a53-1d2b8f0e4a11", "file": "llama-a.jsonl", "format": "mt_bench",
         "modelId": "llama-a", "questions": 80, "generatedAnswers": 160, "truncatedAnswers": 3, "generatedTokens": 51234,
         "settings": {"maxNewTokens": 1024, "temperature": null,
                      "temperatures": {"writing": 0.7, "roleplay": 0.7, "math": 0.0, "stem": 0.1},
                      "topP": 1.0, "topK": 50, "seed": 0, "choices": 1, "systemPrompt": null, "batchSize": 8,
                      "chatTemplateSha256": "5f0c8e0d4b1a2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5"}}""")
public record GenerateJobResult(
        @Schema(description = "the DATASET artifact holding the answer file (its id; a path in the CLI)",
                requiredMode = Schema.RequiredMode.REQUIRED) String answers,
        @Schema(description = "the answer file's name in that artifact", requiredMode = Schema.RequiredMode.REQUIRED) String file,
        @Schema(description = "the benchmark", requiredMode = Schema.RequiredMode.REQUIRED) String format,
        @Schema(description = "the model's name in the answer file", requiredMode = Schema.RequiredMode.REQUIRED) String modelId,
        @Schema(description = "questions answered", requiredMode = Schema.RequiredMode.REQUIRED) int questions,
        @Schema(description = "answers generated (one per turn and choice)", requiredMode = Schema.RequiredMode.REQUIRED)
        int generatedAnswers,
        @Schema(description = "answers cut short by maxNewTokens (no end-of-sequence token)",
                requiredMode = Schema.RequiredMode.REQUIRED) int truncatedAnswers,
        @Schema(description = "tokens generated in all", requiredMode = Schema.RequiredMode.REQUIRED) long generatedTokens,
        @Schema(description = "the decoding settings used", requiredMode = Schema.RequiredMode.REQUIRED) Settings settings) {

    /** Every setting that decided the answers. */
    @Schema(description = "The decoding settings of a generate job")
    public record Settings(
            @Schema(description = "max new tokens per answer", requiredMode = Schema.RequiredMode.REQUIRED) int maxNewTokens,
            @Schema(description = "the temperature given for every question, or null when the benchmark chose",
                    requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Double temperature,
            @Schema(description = "temperature used per question category (\"\" for questions without one)",
                    requiredMode = Schema.RequiredMode.REQUIRED) Map<String, Double> temperatures,
            @Schema(description = "top-p", requiredMode = Schema.RequiredMode.REQUIRED) double topP,
            @Schema(description = "top-k (0 = off)", requiredMode = Schema.RequiredMode.REQUIRED) int topK,
            @Schema(description = "seed of the sampling streams", requiredMode = Schema.RequiredMode.REQUIRED) long seed,
            @Schema(description = "answers per question", requiredMode = Schema.RequiredMode.REQUIRED) int choices,
            @Schema(description = "system message, or null", requiredMode = Schema.RequiredMode.REQUIRED, nullable = true)
            String systemPrompt,
            @Schema(description = "conversations decoded together", requiredMode = Schema.RequiredMode.REQUIRED) int batchSize,
            @Schema(description = "sha256 of the chat template the prompts were rendered with",
                    requiredMode = Schema.RequiredMode.REQUIRED) String chatTemplateSha256) {
    }
}
