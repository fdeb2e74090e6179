package dev.amalgam.platform.job;

/**
 * Filters of the job list; null fields do not filter.
 *
 * @param name a part of the job's name (case-insensitive): its spec's {@code name}, else its {@code output}
 */
public record JobFilter(String type, JobStatus status, String name) {

    public JobFilter(String type, JobStatus status) {
        this(type, status, null);
    }
}
