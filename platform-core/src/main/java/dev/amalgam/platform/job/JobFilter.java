package dev.amalgam.platform.job;

/** Filters of the job list; null fields do not filter. */
public record JobFilter(String type, JobStatus status) {
}
