package dev.amalgam.fusionservice;

import io.swagger.v3.oas.annotations.media.Schema;

/** The result of a representation job (its {@code result} once SUCCEEDED). */
@Schema(description = "The result of a representation job", example = """
        {"dataset": "llama-a-repr", "source": "engine", "samples": 64, "positions": 5210, "topK": 10,
         "vocabSize": 32000, "unsupervisedSamples": 1, "meanMetricCe": 2.17}""")
public record RepresentationJobResult(
        @Schema(description = "the published representation DATASET (its id; the output directory in the CLI)",
                requiredMode = Schema.RequiredMode.REQUIRED) String dataset,
        @Schema(description = "engine (computed from the corpus) or import (converted)",
                requiredMode = Schema.RequiredMode.REQUIRED, allowableValues = {"engine", "import"}) String source,
        @Schema(description = "samples written", requiredMode = Schema.RequiredMode.REQUIRED) long samples,
        @Schema(description = "token positions written (the sum of the samples' lengths)",
                requiredMode = Schema.RequiredMode.REQUIRED) long positions,
        @Schema(description = "slots per position", requiredMode = Schema.RequiredMode.REQUIRED) int topK,
        @Schema(description = "len(tokenizer) of the model: every stored id is below it",
                requiredMode = Schema.RequiredMode.REQUIRED) int vocabSize,
        @Schema(description = "samples with no learned token (their metric_ce is null; FuseChat drops them)",
                requiredMode = Schema.RequiredMode.REQUIRED) long unsupervisedSamples,
        @Schema(description = "mean of the samples' metric_ce (mean CE of the learned next tokens); null when no "
                + "sample has one", requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Double meanMetricCe) {
}
