package dev.amalgam.mergeservice;

import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/** The result of a merge job (its {@code result} once SUCCEEDED). */
@Schema(description = "The result of a merge job", example = """
        {"artifact": "merged-model", "method": "ties", "tensors": 291, "parameterCount": 494032768, "layers": 24,
         "vocabSize": 151936, "dtype": "bfloat16", "tiedEmbeddings": true, "warnings": [], "millis": 3810}""")
public record MergeJobResult(
        @Schema(description = "the name of the published MODEL artifact", requiredMode = Schema.RequiredMode.REQUIRED) String artifact,
        @Schema(description = "the merge method, as in the config", requiredMode = Schema.RequiredMode.REQUIRED) String method,
        @Schema(description = "tensors written", requiredMode = Schema.RequiredMode.REQUIRED) int tensors,
        @Schema(description = "elements over all written tensors", requiredMode = Schema.RequiredMode.REQUIRED) long parameterCount,
        @Schema(description = "decoder layers of the output", requiredMode = Schema.RequiredMode.REQUIRED) int layers,
        @Schema(description = "vocabulary rows of the output embeddings", requiredMode = Schema.RequiredMode.REQUIRED) long vocabSize,
        @Schema(description = "the output dtype (torch spelling)", requiredMode = Schema.RequiredMode.REQUIRED) String dtype,
        @Schema(description = "whether lm_head is tied to the input embeddings (and not written)",
                requiredMode = Schema.RequiredMode.REQUIRED) boolean tiedEmbeddings,
        @Schema(description = "non-fatal notes about the config and the merge", requiredMode = Schema.RequiredMode.REQUIRED)
        List<String> warnings,
        @Schema(description = "wall time of the merge in milliseconds", requiredMode = Schema.RequiredMode.REQUIRED) long millis) {

    public MergeJobResult {
        warnings = List.copyOf(warnings);
    }
}
