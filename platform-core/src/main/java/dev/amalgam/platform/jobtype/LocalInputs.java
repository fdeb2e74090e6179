package dev.amalgam.platform.jobtype;

import dev.amalgam.platform.artifact.ArtifactKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

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
        return local(field, reference, problems, ArtifactKind.MODEL, Files::isDirectory, "is not a model directory");
    }

    @Override
    public JobInput checkpoint(String field, String reference, List<String> problems) {
        return local(field, reference, problems, ArtifactKind.CHECKPOINT, Files::isDirectory, "is not a directory");
    }

    @Override
    public JobInput jsonlDataset(String field, String reference, List<String> problems) {
        return local(field, reference, problems, ArtifactKind.DATASET, Files::isRegularFile, "is not a file");
    }

    @Override
    public JobInput datasetDirectory(String field, String reference, List<String> problems) {
        return local(field, reference, problems, ArtifactKind.DATASET, Files::isDirectory, "is not a directory");
    }

    @Override
    public JobInput dataset(String field, String reference, List<String> problems) {
        return local(field, reference, problems, ArtifactKind.DATASET, p -> Files.isRegularFile(p) || Files.isDirectory(p),
                "is neither a file nor a directory");
    }

    @Override
    public JobInput datasetFile(String field, String reference, List<String> problems) {
        return jsonlDataset(field, reference, problems); // a local file either way
    }

    @Override
    public void requireNamesFree(String field, List<String> names, List<String> problems) {
    }

    /**
     * The reference resolved against the base directory, as an input of {@code kind} named by its file name, when
     * {@code fits} holds for the path; else a problem {@code field: reference <notFit>}.
     */
    private JobInput local(String field, String reference, List<String> problems, ArtifactKind kind, Predicate<Path> fits,
                           String notFit) {
        if (reference == null || reference.isBlank()) {
            problems.add(field + ": a path is required");
            return null;
        }
        Path p = base.resolve(reference).normalize();
        if (!fits.test(p)) {
            problems.add(field + ": " + reference + " " + notFit);
            return null;
        }
        return new JobInput(reference, null, p.getFileName().toString(), kind, p);
    }
}
