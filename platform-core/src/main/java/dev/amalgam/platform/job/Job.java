package dev.amalgam.platform.job;

import java.time.OffsetDateTime;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * A unit of work in the registry: its versioned spec, where it is in its life cycle, and what it produced.
 */
public record Job(
        UUID id,
        UUID tenantId,
        String type,
        int specVersion,
        JsonNode spec,
        JobStatus status,
        int priority,
        int attempts,
        int maxAttempts,
        String leaseOwner,
        OffsetDateTime leaseExpiresAt,
        double progress,
        String progressMessage,
        boolean cancelRequested,
        JsonNode checkpoint,
        JsonNode result,
        String error,
        String idempotencyKey,
        OffsetDateTime createdAt,
        OffsetDateTime updatedAt,
        OffsetDateTime startedAt,
        OffsetDateTime finishedAt) {
}
