package dev.amalgam.platform.worker;

import tools.jackson.databind.JsonNode;

/**
 * Runs jobs of one type. A handler is a thin adapter from the job's spec to a library call: it reports
 * progress and metrics through the context, checks {@link JobContext#isCancelled()} between steps,
 * saves a checkpoint to resume from after a worker dies, and publishes its outputs as artifacts.
 */
public interface JobHandler {

    /** The job type, e.g. "merge". */
    String type();

    /**
     * Runs the job to completion and returns its result (shown as the job's {@code result}).
     * Throwing {@link dev.amalgam.job.CancelledException} ends the job CANCELLED; any other exception ends it FAILED
     * with the exception's message.
     */
    JsonNode handle(JobContext context) throws Exception;
}
