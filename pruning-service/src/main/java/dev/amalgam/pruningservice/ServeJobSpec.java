package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The serve job spec (version 1): a MODEL loaded on a worker behind OpenAI's API
 * ({@code /api/v1/servings/{jobId}/v1/chat/completions}, {@code .../v1/completions}) until cancelled or idle.
 *
 * @param model the MODEL to serve
 * @param modelName the name answers carry in {@code model}; default the artifact's name
 * @param idleSeconds the job ends after this many seconds without a request, 1..86400; default 900
 * @param maxTokens the most tokens one choice may generate, 1..131072; default 2048
 */
@Schema(description = "A model served with OpenAI's chat and completions API until cancelled or idle",
        example = """
                {"model": "llama-a", "idleSeconds": 900, "maxTokens": 2048}""")
public record ServeJobSpec(
        @Schema(description = "MODEL artifact id or name", requiredMode = Schema.RequiredMode.REQUIRED) String model,
        @Schema(description = "the model's name in the answers; default the artifact's name", nullable = true)
        String modelName,
        @Schema(description = "seconds without a request after which the job ends", minimum = "1", maximum = "86400",
                defaultValue = "900", nullable = true) Integer idleSeconds,
        @Schema(description = "the most tokens one choice may generate", minimum = "1", maximum = "131072",
                defaultValue = "2048", nullable = true) Integer maxTokens) {

    static final int DEFAULT_IDLE_SECONDS = 900;
    static final int DEFAULT_MAX_TOKENS = 2048;
}
