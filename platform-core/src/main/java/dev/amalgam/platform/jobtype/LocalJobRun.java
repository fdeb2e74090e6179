package dev.amalgam.platform.jobtype;

import dev.amalgam.job.Progress;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.artifact.ArtifactStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * A job run in this process on local files, as the CLI runs it: progress goes to a {@link Progress} (a terminal
 * progress bar), the checkpoint is a file in the work directory, and the outputs are moved into one output
 * directory at the end, all at once: a job with one output writes it to {@code OUT} itself, a job with several to
 * {@code OUT/<role>} ({@code OUT/model}, {@code OUT/report}, ...).
 */
public final class LocalJobRun implements JobRun {

    static final String CHECKPOINT_FILE = "checkpoint.json";

    private final Path out;
    private final Path workDir;
    private final Progress terminal;
    private final List<Path> staged = new ArrayList<>();
    private final List<Published> published = new ArrayList<>();
    private volatile boolean cancelled;

    /**
     * @param out     the output directory; it must not exist yet
     * @param workDir where the checkpoint and resumable state live; a run with the same one resumes
     */
    public LocalJobRun(Path out, Path workDir, Progress terminal) {
        this.out = out.toAbsolutePath();
        this.workDir = workDir.toAbsolutePath();
        this.terminal = terminal;
    }

    /** Asks the job to stop at its next safe point (Ctrl-C). */
    /** What the job published, once it did (a pipeline's later steps read it). */
    public List<Published> published() {
        return List.copyOf(published);
    }

    public void cancel() {
        cancelled = true;
    }

    @Override
    public boolean isCancelled() {
        return cancelled || terminal.isCancelled();
    }

    @Override
    public void progress(double fraction, String message) {
        terminal.progress(fraction, message);
    }

    @Override
    public void metrics(String stage, long step, Map<String, ? extends Number> values) {
        terminal.metrics(stage, step, values);
    }

    @Override
    public void log(String message) {
        terminal.log(message);
    }

    @Override
    public JsonNode checkpoint() {
        Path file = workDir.resolve(CHECKPOINT_FILE);
        return Files.isRegularFile(file) ? Json.read(file) : null;
    }

    @Override
    public void saveCheckpoint(JsonNode state) {
        try {
            Path dir = workDir();
            Path tmp = Files.createTempFile(dir, CHECKPOINT_FILE, ".tmp");
            Files.writeString(tmp, state.toString());
            // a crash leaves the old checkpoint or the new one, never half of one
            Files.move(tmp, dir.resolve(CHECKPOINT_FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Path workDir() {
        try {
            return Files.createDirectories(workDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Path newStagingDir() {
        try {
            // next to the output directory, so publishing is a rename on the same file system
            Path dir = Files.createTempDirectory(parent(), "." + out.getFileName() + ".staging-");
            openToOthers(dir);
            staged.add(dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<Published> publishAll(List<JobOutput> outputs, List<JobInput> inputs) {
        throwIfCancelled();
        try {
            if (Files.exists(out)) {
                throw new IllegalStateException(out + " already exists");
            }
            List<Published> published = new ArrayList<>();
            if (outputs.size() == 1) {
                JobOutput o = outputs.get(0);
                Files.move(o.stagedDir(), out, StandardCopyOption.ATOMIC_MOVE);
                published.add(new Published(o.kind(), o.role(), o.name(), out.toString(), out));
            } else {
                Path partial = Files.createTempDirectory(parent(), "." + out.getFileName() + ".partial-");
                openToOthers(partial);
                staged.add(partial);
                for (JobOutput o : outputs) {
                    Files.move(o.stagedDir(), partial.resolve(o.role()), StandardCopyOption.ATOMIC_MOVE);
                    published.add(new Published(o.kind(), o.role(), o.name(), out.resolve(o.role()).toString(), out.resolve(o.role())));
                }
                // all outputs appear together
                Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
            }
            outputs.forEach(o -> staged.remove(o.stagedDir()));
            staged.removeIf(p -> !Files.exists(p));
            this.published.addAll(published);
            return published;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes staging directories that were not published; with {@code succeeded}, the work directory too. */
    void finish(boolean succeeded) {
        staged.forEach(ArtifactStore::deleteQuietly);
        staged.clear();
        if (succeeded) {
            ArtifactStore.deleteQuietly(workDir);
        }
    }

    /** A temporary directory is private (0700); an output directory is as readable as any other (0755). */
    private static void openToOthers(Path dir) throws IOException {
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private Path parent() throws IOException {
        Path parent = out.getParent();
        return Files.createDirectories(parent == null ? Path.of("").toAbsolutePath() : parent);
    }
}
