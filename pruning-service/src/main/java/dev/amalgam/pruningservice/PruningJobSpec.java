package dev.amalgam.pruningservice;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.amalgam.pruning.PruneSpec;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The pruning job spec (version 1): the pruning library's spec fields (method, blocks or targetRatio, candidates,
 * samples, seqLen, seed, batchSize, output form, ...) plus where its inputs and outputs are. The report is published
 * as the REPORT artifact "{name}-report"; both names must follow the artifact name rules.
 *
 * @param model       the MODEL artifact to prune (id or name)
 * @param dataset     the calibration DATASET, one JSONL file
 * @param evalDataset optional DATASET whose perplexity is measured before and after
 * @param name        the pruned MODEL artifact to publish
 * @param pruning     the pruning library's spec, whose fields sit at the top level of the JSON
 */
@Schema(description = "A pruning job: BlockPruner or a layer-pruning baseline",
        example = """
                {"model": "tiny", "dataset": "wiki", "name": "tiny-pruned", "method": "blockpruner", "blocks": 2,
                 "samples": 8, "seqLen": 32}""")
public record PruningJobSpec(
        @Schema(description = "MODEL artifact id or name", requiredMode = Schema.RequiredMode.REQUIRED) String model,
        @Schema(description = "calibration DATASET (one JSONL file) id or name", requiredMode = Schema.RequiredMode.REQUIRED) String dataset,
        @Schema(description = "optional DATASET for perplexity before and after") String evalDataset,
        @Schema(description = "name of the pruned MODEL artifact", requiredMode = Schema.RequiredMode.REQUIRED) String name,
        @JsonUnwrapped PruneSpec pruning) {

    static String reportName(String modelName) {
        return modelName + "-report";
    }
}
