package dev.amalgam.platform.jobtype;

import dev.amalgam.job.SpecReader;
import java.util.List;

/**
 * One kind of job, as a self-describing unit: how its spec is read, how it is validated against the inputs it names,
 * and how it runs. The HTTP API, the worker and the CLI all go through it:
 * <ul>
 *   <li>submission ({@link dev.amalgam.platform.web.JobSubmissions}): {@link #read} the body, {@link #validate} it against the caller's
 *       artifacts, store it with the artifact each reference resolved to, queue the job;</li>
 *   <li>the worker ({@link JobTypeHandler}): read the stored spec, validate it once more (an input may have been
 *       deleted meanwhile), {@link #run} it;</li>
 *   <li>the CLI ({@link LocalJobs}): read a spec built from the options, validate it against local paths, run it
 *       with outputs written to a directory.</li>
 * </ul>
 * A job type is a Spring bean of its service; that bean is its only registration: its endpoint, its worker and its
 * OpenAPI description follow from it.
 *
 * @param <S> the spec as the client writes it (a record; it also documents the request body)
 * @param <V> the spec once validated: resolved inputs and everything {@link #run} needs
 * @param <R> the job's result (a record; it also documents the job's {@code result} in the API)
 */
public interface JobType<S, V extends JobType.Validated, R> {

    /** The job type as stored and listed, e.g. {@code merge}. */
    String name();

    /** The version of the stored spec format. */
    int specVersion();

    /** The path that creates jobs of this type, e.g. {@code /api/v1/merges}. */
    String path();

    /** One line for the API documentation. */
    String summary();

    /** The record that describes the request body (its OpenAPI schema). */
    Class<S> specClass();

    /** The record that describes the job's result (its OpenAPI schema). */
    Class<R> resultClass();

    /** String fields whose values come from a registry, with the values (for the OpenAPI schema). */
    default java.util.Map<String, List<String>> allowedValues() {
        return java.util.Map.of();
    }

    /**
     * Reads the spec; every problem goes to the reader. Fields that could not be read are null in the result.
     * The platform's job options ({@code priority}, {@code maxAttempts}) are read before and are not part of it.
     */
    S read(SpecReader json);

    /**
     * Checks the spec as a whole and against its inputs, resolving every artifact reference through
     * {@code inputs}, and adds every problem to {@code problems}. It is called even when {@link #read} found
     * problems, so that a user sees them all at once: skip the checks whose fields are null.
     *
     * @return the validated job, or null when there are problems
     */
    V validate(S spec, JobInputs inputs, List<String> problems);

    /** Runs a validated job to its end; returns its result summary (stored as the job's {@code result}). */
    R run(V job, JobRun run) throws Exception;

    /** What every validated job tells the platform. */
    interface Validated {

        /** The artifacts the job reads: lineage, and protection from deletion while the job lives. */
        List<JobInput> inputs();
    }
}
