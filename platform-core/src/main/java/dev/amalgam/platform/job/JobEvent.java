package dev.amalgam.platform.job;

import java.time.OffsetDateTime;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * One ordered event of a job: a status change, progress, metrics of a step, or a log line.
 *
 * @param seq 1, 2, 3... per job; clients resume an event stream after the last seq they saw
 */
public record JobEvent(UUID jobId, long seq, Kind kind, JsonNode payload, OffsetDateTime createdAt) {

    /** What an event reports. */
    public enum Kind { STATUS, PROGRESS, METRIC, LOG }
}
