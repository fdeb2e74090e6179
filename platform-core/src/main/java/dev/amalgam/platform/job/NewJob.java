package dev.amalgam.platform.job;

import java.util.List;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * What a service submits: a validated spec and the artifacts it consumes (recorded as lineage).
 *
 * @param inputArtifacts ids of artifacts the job reads; they cannot be deleted while the job is live
 * @param requestSha256  sha256 of the request body as the client sent it (null when not submitted over HTTP)
 */
public record NewJob(UUID tenantId, String type, int specVersion, JsonNode spec, int priority, int maxAttempts,
                     String idempotencyKey, List<UUID> inputArtifacts, String requestSha256) {
    public NewJob {
        inputArtifacts = List.copyOf(inputArtifacts);
    }

    public NewJob(UUID tenantId, String type, int specVersion, JsonNode spec, int priority, int maxAttempts,
                  String idempotencyKey, List<UUID> inputArtifacts) {
        this(tenantId, type, specVersion, spec, priority, maxAttempts, idempotencyKey, inputArtifacts, null);
    }
}
