package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.Schema;

/** The result of a serve job once it ended by itself (idle); a cancelled one has none. */
@Schema(description = "The result of a serve job that ended after its idle timeout", example = """
        {"modelName": "llama-a", "requests": 42, "ended": "idle"}""")
public record ServeJobResult(
        @Schema(description = "the name the answers carried", requiredMode = Schema.RequiredMode.REQUIRED) String modelName,
        @Schema(description = "requests answered", requiredMode = Schema.RequiredMode.REQUIRED) long requests,
        @Schema(description = "why it ended: idle", requiredMode = Schema.RequiredMode.REQUIRED) String ended) {
}
