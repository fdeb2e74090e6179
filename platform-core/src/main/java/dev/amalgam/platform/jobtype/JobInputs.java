package dev.amalgam.platform.jobtype;

import dev.amalgam.platform.web.SpecChecks;
import java.util.List;
import java.util.Map;

/**
 * Resolves the references of a spec to inputs, and checks the names a job will publish: a tenant's artifacts at
 * submission ({@link TenantInputs}), the artifacts resolved then on the worker ({@link StoredInputs}), local paths
 * in the CLI ({@link LocalInputs}). Each method adds a problem under {@code field} and returns null when it cannot
 * resolve.
 */
public interface JobInputs {

    /** A MODEL: an artifact id or name (a directory in the CLI). */
    JobInput model(String field, String reference, List<String> problems);

    /** A CHECKPOINT: an artifact id or name (a directory in the CLI), e.g. a PEFT adapter for a merge. */
    JobInput checkpoint(String field, String reference, List<String> problems);

    /** A DATASET that is one JSONL file. */
    JobInput jsonlDataset(String field, String reference, List<String> problems);

    /**
     * A DATASET as its whole directory, for datasets of several files (a FuseChat representation dataset: meta.json,
     * representations.jsonl, topk.bin).
     */
    JobInput datasetDirectory(String field, String reference, List<String> problems);

    /**
     * A DATASET of any layout: its location is the artifact's one file, or its directory when it holds several (a
     * dataset with split files); in the CLI a file or a directory. The job type reads and checks its content.
     */
    JobInput dataset(String field, String reference, List<String> problems);

    /** A DATASET that is exactly one file of any format (e.g. a JSON array); a file in the CLI. */
    JobInput datasetFile(String field, String reference, List<String> problems);

    /**
     * A registered credential of the job's tenant, by name: it must exist when the job is submitted (and when the
     * worker validates the job again); its secret is opened only when the job calls {@link JobCredential#secret()}.
     * Outside the platform (the CLI) there are no registered credentials: a problem says so.
     */
    default JobCredential credential(String field, String name, List<String> problems) {
        problems.add(field + ": registered credentials exist on the platform only (POST /api/v1/credentials); "
                + "here, name an environment variable instead");
        return null;
    }

    /** Adds a problem for each name that is already taken. */
    void requireNamesFree(String field, List<String> names, List<String> problems);

    /**
     * The names a job will publish, by what they name ("the pruned model" -> name): each must follow the artifact
     * name rules and be free.
     */
    default void checkOutputNames(String field, Map<String, String> names, List<String> problems) {
        int before = problems.size();
        SpecChecks.checkOutputNames(field, names, problems);
        if (problems.size() == before) {
            requireNamesFree(field, List.copyOf(names.values()), problems);
        }
    }
}
