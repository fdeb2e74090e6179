package dev.amalgam.pruning;

/**
 * Progress and cancellation of a pruning run (the service maps it to heartbeats, job events and checkpoints).
 * Called on the thread running the search.
 */
public interface PruningListener {

    /** Does nothing and never cancels. */
    PruningListener NONE = progress -> { };

    /** After each completed step; store {@code progress.state()} as the job checkpoint. */
    void onStep(PruningProgress progress);

    /** Within a step: {@code done} of {@code total} candidates scored (for heartbeats on long steps). */
    default void onCandidate(int step, int done, int total) {
    }

    /** Polled between candidates and after each step; true stops the run with {@link PruningCancelledException}. */
    default boolean isCancelled() {
        return false;
    }
}
