package dev.amalgam.pruningservice;

import dev.amalgam.pruning.PruneSpec;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * The pruning job spec (version 1): the pruning library's spec fields (method, blocks or targetRatio,
 * candidates, samples, seqLen, seed, batchSize, output form, ...) plus where its inputs and outputs are:
 * <pre>{@code
 * {"model": "llama-7b", "dataset": "calib", "evalDataset": "wikitext2",       // artifacts, ids or names
 *  "name": "llama-7b-pruned",                                                 // the pruned MODEL artifact
 *  "method": "blockpruner", "blocks": 17, "candidates": "mix", "samples": 256, "seqLen": 2048}
 * }</pre>
 * The report is published as the REPORT artifact "{name}-report". The stored spec names artifacts by id.
 */
final class PruningJobSpec {

    static final String TYPE = "prune";
    static final int VERSION = 1;
    static final Set<String> PLATFORM_FIELDS = Set.of("model", "dataset", "evalDataset", "name", "priority", "maxAttempts");

    private PruningJobSpec() {
    }

    static PruneSpec pruneSpec(JsonNode spec, List<String> errors) {
        return PruneSpec.fromJson(spec, PLATFORM_FIELDS, errors);
    }

    static String reportName(String modelName) {
        return modelName + "-report";
    }
}
