package dev.amalgam.platform.job;

import java.util.List;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * What a service submits: a validated spec and the artifacts it consumes (recorded as lineage).
 *
 * @param inputArtifacts ids of artifacts the job reads; they cannot be deleted while the job is live
 */
public record NewJob(UUID tenantId, String type, int specVersion, JsonNode spec, int priority, int maxAttempts,
                     String idempotencyKey, List<UUID> inputArtifacts) {
    public NewJob {
        inputArtifacts = List.copyOf(inputArtifacts);
    }
}
