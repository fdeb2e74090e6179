package dev.amalgam.platform.web;

import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobStatus;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/** A job as clients see it (no lease internals beyond what helps to debug a stuck job). */
public record JobView(
        UUID id,
        String type,
        int specVersion,
        JobStatus status,
        double progress,
        String progressMessage,
        int priority,
        int attempts,
        int maxAttempts,
        boolean cancelRequested,
        JsonNode spec,
        JsonNode result,
        String error,
        List<UUID> inputs,
        List<UUID> outputs,
        OffsetDateTime createdAt,
        OffsetDateTime startedAt,
        OffsetDateTime finishedAt,
        OffsetDateTime leaseExpiresAt) {

    public static JobView of(Job j, List<ArtifactRepository.Lineage> lineage) {
        return new JobView(j.id(), j.type(), j.specVersion(), j.status(), j.progress(), j.progressMessage(), j.priority(),
                j.attempts(), j.maxAttempts(), j.cancelRequested(), j.spec(), j.result(), j.error(),
                lineage.stream().filter(l -> l.role().equals("INPUT")).map(ArtifactRepository.Lineage::artifactId).toList(),
                lineage.stream().filter(l -> l.role().equals("OUTPUT")).map(ArtifactRepository.Lineage::artifactId).toList(),
                j.createdAt(), j.startedAt(), j.finishedAt(), j.leaseExpiresAt());
    }
}
