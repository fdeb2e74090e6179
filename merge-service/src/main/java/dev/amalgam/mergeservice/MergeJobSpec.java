package dev.amalgam.mergeservice;

import io.swagger.v3.oas.annotations.media.Schema;
import tools.jackson.databind.JsonNode;

/**
 * The merge job spec (version 1): a mergekit config, as JSON or as mergekit's YAML text, whose models are artifact
 * ids or names (local paths in the CLI), and the name of the merged model.
 *
 * @param config     mergekit's config structure as JSON (give this or {@code configYaml})
 * @param configYaml mergekit's YAML text
 * @param output     the MODEL artifact to publish (artifact name rules)
 * @param seed       the seed of the random methods (dare_*, della*, arcee_fusion's sampling); default 0
 */
@Schema(description = "A merge: mergekit's config (JSON or YAML) with artifact ids or names as models",
        example = """
                {"configYaml": "merge_method: slerp\\nbase_model: model-a\\nmodels:\\n  - model: model-a\\n  - model: model-b\\nparameters:\\n  t: 0.5\\ndtype: float32\\n",
                 "output": "model-ab"}""")
public record MergeJobSpec(
        @Schema(description = "mergekit's config as JSON", type = "object") JsonNode config,
        @Schema(description = "mergekit's YAML config text") String configYaml,
        @Schema(description = "name of the merged MODEL artifact", requiredMode = Schema.RequiredMode.REQUIRED) String output,
        @Schema(description = "seed of the random methods", defaultValue = "0") Long seed) {
}
