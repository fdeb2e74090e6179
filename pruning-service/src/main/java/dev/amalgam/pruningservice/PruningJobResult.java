package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/** The result of a pruning job (its {@code result} once SUCCEEDED). */
@Schema(description = "The result of a pruning job", example = """
        {"model": "tiny-pruned", "report": "tiny-pruned-report", "method": "blockpruner",
         "removedBlocks": ["mlp.3", "mha.5"], "parameterRatio": 0.1342, "calibrationPerplexityBefore": 12.41,
         "calibrationPerplexityAfter": 13.02, "evalPerplexityBefore": null, "evalPerplexityAfter": null,
         "denseParameters": 1235814400, "prunedParameters": 1069916160}""")
public record PruningJobResult(
        @Schema(description = "the name of the published pruned MODEL", requiredMode = Schema.RequiredMode.REQUIRED) String model,
        @Schema(description = "the name of the published REPORT (report.json)", requiredMode = Schema.RequiredMode.REQUIRED) String report,
        @Schema(description = "the pruning method", requiredMode = Schema.RequiredMode.REQUIRED) String method,
        @Schema(description = "the removed blocks in the order they were removed, each as mha.<layer> (attention) or mlp.<layer>",
                requiredMode = Schema.RequiredMode.REQUIRED) List<String> removedBlocks,
        @Schema(description = "the share of the dense model's parameters removed", requiredMode = Schema.RequiredMode.REQUIRED)
        double parameterRatio,
        @Schema(description = "perplexity on the calibration data before pruning", requiredMode = Schema.RequiredMode.REQUIRED)
        double calibrationPerplexityBefore,
        @Schema(description = "perplexity on the calibration data after pruning", requiredMode = Schema.RequiredMode.REQUIRED)
        double calibrationPerplexityAfter,
        @Schema(description = "perplexity on evalDataset before pruning; null without one", nullable = true) Double evalPerplexityBefore,
        @Schema(description = "perplexity on evalDataset after pruning; null without one", nullable = true) Double evalPerplexityAfter,
        @Schema(description = "parameters of the dense model", requiredMode = Schema.RequiredMode.REQUIRED) long denseParameters,
        @Schema(description = "parameters of the pruned model", requiredMode = Schema.RequiredMode.REQUIRED) long prunedParameters) {

    public PruningJobResult {
        removedBlocks = List.copyOf(removedBlocks);
    }
}
