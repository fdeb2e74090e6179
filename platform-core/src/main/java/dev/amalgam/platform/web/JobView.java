package dev.amalgam.platform.web;

import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobStatus;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * A job as clients see it (no lease internals beyond what helps to debug a stuck job).
 *
 * @param name the name of what the job makes: its spec's {@code name} (pruning, fusion), else its {@code output}
 *             (merge); null when the spec has neither (an evaluation)
 */
public record JobView(
        UUID id,
        String type,
        String name,
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
        return new JobView(j.id(), j.type(), nameOf(j.spec()), j.specVersion(), j.status(), j.progress(), j.progressMessage(), j.priority(),
                j.attempts(), j.maxAttempts(), j.cancelRequested(), j.spec(), j.result(), j.error(),
                lineage.stream().filter(l -> l.role().equals("INPUT")).map(ArtifactRepository.Lineage::artifactId).toList(),
                lineage.stream().filter(l -> l.role().equals("OUTPUT")).map(ArtifactRepository.Lineage::artifactId).toList(),
                j.createdAt(), j.startedAt(), j.finishedAt(), j.leaseExpiresAt());
    }

    /** The same rule as the job list's name filter (JobRepository). */
    static String nameOf(JsonNode spec) {
        for (String field : new String[] {"name", "output"}) {
            JsonNode v = spec == null ? null : spec.get(field);
            if (v != null && v.isString()) {
                return v.asString();
            }
        }
        return null;
    }
}
