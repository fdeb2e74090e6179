package dev.amalgam.platform.jobtype;

import dev.amalgam.job.CancelledException;
import dev.amalgam.job.Progress;
import dev.amalgam.job.SpecReader;
import dev.amalgam.modelio.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/**
 * Runs a job of any {@link JobType} in this process, on local paths, through the same read, validation and
 * {@link JobType#run} as the platform's worker: what {@code amalgam merge|prune|fuse|eval} do. Ctrl-C (a JVM
 * shutdown) stops the job at its next safe point; its work directory is kept, so running the same command again
 * resumes from the last checkpoint.
 */
public final class LocalJobs {

    /** How long a shutdown (Ctrl-C) waits for the job to reach a safe point. */
    private static final long STOP_WAIT_SECONDS = 30;

    private LocalJobs() {
    }

    /** Reads and validates {@code spec} against local paths under {@code base}; throws with every problem. */
    public static <S, V extends JobType.Validated, R> V validate(JobType<S, V, R> type, JsonNode spec, Path base) {
        SpecReader reader = SpecReader.of(spec);
        S read = type.read(reader);
        reader.finish();
        List<String> problems = reader.problems();
        V job = type.validate(read, new LocalInputs(base), problems);
        if (!problems.isEmpty() || job == null) {
            throw new InvalidJobSpecException(problems.isEmpty() ? List.of("not a valid " + type.name() + " spec") : problems);
        }
        return job;
    }

    /**
     * Validates and runs the job; returns its result summary.
     *
     * @throws InvalidJobSpecException with every problem of the spec, before any work
     * @throws CancelledException      when it was stopped (Ctrl-C)
     */
    public static <S, V extends JobType.Validated, R> JsonNode run(JobType<S, V, R> type, JsonNode spec, Path base, Path out,
                                                               Path workDir, Progress terminal) throws Exception {
        return runForOutputs(type, spec, base, out, workDir, terminal).result();
    }

    /** A local run's result summary and what it published. */
    public record Outcome(JsonNode result, List<Published> outputs) {
    }

    /** Like {@link #run}, also returning the outputs the job published (where they are now). */
    public static <S, V extends JobType.Validated, R> Outcome runForOutputs(JobType<S, V, R> type, JsonNode spec, Path base, Path out,
                                                                        Path workDir, Progress terminal) throws Exception {
        V job = validate(type, spec, base);
        LocalJobRun run = new LocalJobRun(out, workDir, terminal);
        CountDownLatch done = new CountDownLatch(1);
        Thread stopper = new Thread(() -> {
            run.cancel();
            try {
                done.await(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "amalgam-stop");
        Runtime.getRuntime().addShutdownHook(stopper);
        boolean succeeded = false;
        try {
            JsonNode result = Json.MAPPER.valueToTree(type.run(job, run));
            succeeded = true;
            return new Outcome(result, run.published());
        } catch (CancelledException e) {
            // said before the shutdown hook lets the JVM end
            terminal.log("stopped; run the same command again to resume from " + workDir.toAbsolutePath());
            throw e;
        } finally {
            run.finish(succeeded);
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(stopper);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it returns now that the job has stopped
            }
        }
    }
}
