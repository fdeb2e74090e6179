package dev.amalgam.merge;

/**
 * Receives progress while a merge runs (the CLI draws a bar, the service heartbeats). Must be thread-safe.
 * Throwing from {@link #onTensor} cancels the merge: the other workers stop, nothing is published, and
 * {@link MergeRunner#run} throws a {@link MergeException} whose cause is the thrown exception.
 */
@FunctionalInterface
public interface MergeProgressListener {

    /** Ignores progress. */
    MergeProgressListener NONE = (done, total, name) -> { };

    /**
     * Called after each output tensor is written.
     *
     * @param tensorsDone  tensors written so far
     * @param tensorsTotal tensors in the output
     * @param tensorName   the tensor just written
     */
    void onTensor(int tensorsDone, int tensorsTotal, String tensorName);
}
