package dev.amalgam.platform.artifact;

import java.time.OffsetDateTime;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * A published, immutable set of files with checksums and metadata.
 *
 * @param storagePath absolute path of the artifact's directory in the store (never shown to clients)
 * @param metadata    for models: architecture, layers, hidden size, vocab size, parameter count, dtype
 */
public record Artifact(UUID id, UUID tenantId, ArtifactKind kind, String name, String status, String storagePath,
                       long sizeBytes, JsonNode metadata, UUID producingJobId, OffsetDateTime createdAt) {

    public boolean isReady() {
        return "READY".equals(status);
    }
}
