package dev.amalgam.pruningservice;

import dev.amalgam.pruning.PruneSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * The report is published as the REPORT artifact "{name}-report"; both names must follow the artifact name rules.
 * {@code priority} is -100..100 (default 0), {@code maxAttempts} 1..10 (default 3). The stored spec names artifacts by id.
 */
final class PruningJobSpec {

    static final String TYPE = "prune";
    static final int VERSION = 1;
    static final int DEFAULT_MAX_ATTEMPTS = 3;
    static final Set<String> PLATFORM_FIELDS = Set.of("model", "dataset", "evalDataset", "name", "priority", "maxAttempts");

    private PruningJobSpec() {
    }

    static PruneSpec pruneSpec(JsonNode spec, List<String> errors) {
        return PruneSpec.fromJson(spec, PLATFORM_FIELDS, errors);
    }

    static String reportName(String modelName) {
        return modelName + "-report";
    }

    /** The names the job publishes, by what they name: the model's and the report's must both be valid. */
    static Map<String, String> outputNames(String name) {
        Map<String, String> names = new LinkedHashMap<>();
        names.put("the pruned model", name);
        names.put("the report", reportName(name));
        return names;
    }
}
