package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.Schema;

/** The result of an evaluation job (its {@code result} once SUCCEEDED). */
@Schema(description = "The result of an evaluation job", example = """
        {"perplexity": 9.87, "tokens": 286720, "chunks": 140, "totalNll": 655632.1, "seqLen": 2048}""")
public record EvaluationJobResult(
        @Schema(description = "exp(totalNll / tokens)", requiredMode = Schema.RequiredMode.REQUIRED) double perplexity,
        @Schema(description = "tokens scored", requiredMode = Schema.RequiredMode.REQUIRED) long tokens,
        @Schema(description = "windows of seqLen tokens evaluated", requiredMode = Schema.RequiredMode.REQUIRED) int chunks,
        @Schema(description = "summed negative log-likelihood in nats", requiredMode = Schema.RequiredMode.REQUIRED) double totalNll,
        @Schema(description = "the window length used", requiredMode = Schema.RequiredMode.REQUIRED) int seqLen) {
}
