package dev.amalgam.merge;

/** Receives progress while a merge runs (the CLI draws a bar, the service heartbeats). Must be thread-safe. */
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
