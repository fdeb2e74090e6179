package dev.amalgam.platform.jobtype;

import dev.amalgam.job.SpecReader;

/**
 * The queue settings every job spec may carry, the same for every job type.
 *
 * @param priority    -100..100, default 0: higher runs first among the tenant's queued jobs of a type
 * @param maxAttempts 1..10, default 3: how often a job is started before it is FAILED for good (a worker that dies
 *                    spends an attempt; a clean stop does not)
 */
public record JobOptions(int priority, int maxAttempts) {

    public static final int MIN_PRIORITY = -100;
    public static final int MAX_PRIORITY = 100;
    public static final int DEFAULT_PRIORITY = 0;
    public static final int MIN_ATTEMPTS = 1;
    public static final int MAX_ATTEMPTS = 10;
    public static final int DEFAULT_MAX_ATTEMPTS = 3;

    /** Reads {@code priority} and {@code maxAttempts}; a bad value is a problem and its default is used. */
    public static JobOptions read(SpecReader json) {
        return new JobOptions(json.integer("priority", MIN_PRIORITY, MAX_PRIORITY, DEFAULT_PRIORITY),
                json.integer("maxAttempts", MIN_ATTEMPTS, MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS));
    }
}
