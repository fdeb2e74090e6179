package dev.amalgam.platform.jobtype;

import dev.amalgam.job.Progress;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * What a running job sees of whoever runs it, the platform's worker or the CLI: progress and cancellation
 * ({@link Progress}), a checkpoint to resume from, a work directory that survives a crash, staging space, and
 * publication of its outputs.
 */
public interface JobRun extends Progress {

    /** The checkpoint an earlier attempt saved, or null on a first run. */
    JsonNode checkpoint();

    /** Saves resumable state; an attempt after a crash reads it with {@link #checkpoint()}. */
    void saveCheckpoint(JsonNode state);

    /** A directory that a later attempt finds as this one left it (training checkpoints); removed when the job ends. */
    Path workDir();

    /** A new, empty directory to stage an output in; removed unless it is published. */
    Path newStagingDir();

    /**
     * Publishes every output at once, all or nothing, each with lineage to {@code inputs}. The platform registers
     * them as artifacts; the CLI moves them into its output directory.
     */
    List<Published> publishAll(List<JobOutput> outputs, List<JobInput> inputs);
}
