package dev.amalgam.platform.jobtype;

import dev.amalgam.platform.artifact.ArtifactKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Resolves references as local paths, relative to a base directory: what the CLI runs jobs on. A model is a
 * directory, a dataset a file. Output names are not taken by anything (outputs go to the output directory).
 */
public final class LocalInputs implements JobInputs {

    private final Path base;

    public LocalInputs(Path base) {
        this.base = base.toAbsolutePath();
    }

    @Override
    public JobInput model(String field, String reference, List<String> problems) {
        Path p = path(field, reference, problems);
        if (p == null) {
            return null;
        }
        if (!Files.isDirectory(p)) {
            problems.add(field + ": " + reference + " is not a model directory");
            return null;
        }
        return new JobInput(reference, null, p.getFileName().toString(), ArtifactKind.MODEL, p);
    }

    @Override
    public JobInput checkpoint(String field, String reference, List<String> problems) {
        Path p = path(field, reference, problems);
        if (p == null) {
            return null;
        }
        if (!Files.isDirectory(p)) {
            problems.add(field + ": " + reference + " is not a directory");
            return null;
        }
        return new JobInput(reference, null, p.getFileName().toString(), ArtifactKind.CHECKPOINT, p);
    }

    @Override
    public JobInput jsonlDataset(String field, String reference, List<String> problems) {
        Path p = path(field, reference, problems);
        if (p == null) {
            return null;
        }
        if (!Files.isRegularFile(p)) {
            problems.add(field + ": " + reference + " is not a file");
            return null;
        }
        return new JobInput(reference, null, p.getFileName().toString(), ArtifactKind.DATASET, p);
    }

    @Override
    public JobInput datasetDirectory(String field, String reference, List<String> problems) {
        Path p = path(field, reference, problems);
        if (p == null) {
            return null;
        }
        if (!Files.isDirectory(p)) {
            problems.add(field + ": " + reference + " is not a directory");
            return null;
        }
        return new JobInput(reference, null, p.getFileName().toString(), ArtifactKind.DATASET, p);
    }

    @Override
    public JobInput dataset(String field, String reference, List<String> problems) {
        Path p = path(field, reference, problems);
        if (p == null) {
            return null;
        }
        if (!Files.isRegularFile(p) && !Files.isDirectory(p)) {
            problems.add(field + ": " + reference + " is neither a file nor a directory");
            return null;
        }
        return new JobInput(reference, null, p.getFileName().toString(), ArtifactKind.DATASET, p);
    }

    @Override
    public JobInput datasetFile(String field, String reference, List<String> problems) {
        return jsonlDataset(field, reference, problems); // a local file either way
    }

    @Override
    public void requireNamesFree(String field, List<String> names, List<String> problems) {
    }

    private Path path(String field, String reference, List<String> problems) {
        if (reference == null || reference.isBlank()) {
            problems.add(field + ": a path is required");
            return null;
        }
        return base.resolve(reference).normalize();
    }
}
