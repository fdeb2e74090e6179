package dev.amalgam.cli;

import dev.amalgam.job.CancelledException;
import dev.amalgam.job.Progress;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.jobtype.InvalidJobSpecException;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.LocalJobs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;

/**
 * What the local job commands share: they build a job spec from their options and run it with the job type's own
 * handler, as a worker would, on local paths; the result summary is printed on stdout as JSON, progress on stderr.
 */
final class LocalJobCommand {

    /** The name the local commands give their outputs; names only matter in a registry. */
    static final String OUTPUT_NAME = "model";

    /** Exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it). */
    static final int STOPPED = 130;

    private LocalJobCommand() {
    }

    /**
     * Runs the job and prints its summary; returns the exit code.
     *
     * @param command the command's name for messages, e.g. "merge"
     * @param workDir where checkpoints live; running the same command again with it resumes
     */
    static <S, V extends JobType.Validated, R> int run(String command, JobType<S, V, R> type, JsonNode spec, Path out, Path workDir,
                                                   Progress terminal) throws Exception {
        try {
            JsonNode summary = LocalJobs.run(type, spec, Path.of(""), out, workDir, terminal);
            System.out.println(Json.toPrettyString(summary));
            return 0;
        } catch (InvalidJobSpecException e) {
            return problems(command, e);
        } catch (CancelledException e) {
            // LocalJobs has said where the job can resume from
            return STOPPED;
        }
    }

    /** Prints every problem of a spec; returns the exit code of bad input. */
    static int problems(String command, InvalidJobSpecException e) {
        System.err.println("amalgam " + command + ": the spec has " + e.problems().size() + " problem(s):");
        e.problems().forEach(p -> System.err.println("  - " + p));
        return 2;
    }

    /** Refuses an output directory that holds anything; removes an empty one, so the job can create it. */
    static void requireFreshOutput(Path out) {
        if (!Files.exists(out)) {
            return;
        }
        try (var entries = Files.list(out)) {
            if (!Files.isDirectory(out) || entries.findAny().isPresent()) {
                throw new IllegalArgumentException("the output directory " + out + " already exists and is not empty");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Files.delete(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The default work directory of an output: {@code OUT.work} beside it. */
    static Path workDirOf(Path out) {
        Path abs = out.toAbsolutePath();
        return abs.resolveSibling(abs.getFileName() + ".work");
    }

    /** A progress bar on stderr; log lines go to stderr on lines of their own. */
    static Progress bar(String label) {
        ProgressBar bar = new ProgressBar(System.err, label);
        return new Progress() {
            @Override
            public void progress(double fraction, String message) {
                bar.fraction(fraction, message);
            }

            @Override
            public void log(String message) {
                System.err.println();
                System.err.println("amalgam: " + message);
            }
        };
    }
}
