package dev.amalgam.pruning;

import dev.amalgam.job.Progress;

/**
 * Progress and cancellation of a pruning run: the platform's {@link Progress} plus the search steps, whose state is
 * the job's checkpoint. Called on the thread running the search; {@link #isCancelled()} is polled between candidates
 * and after each step, and true stops the run with {@link dev.amalgam.job.CancelledException}.
 */
public interface PruningListener extends Progress {

    /** Does nothing and never cancels. */
    PruningListener NONE = progress -> { };

    /** After each completed step; store {@code progress.state()} as the job checkpoint. */
    void onStep(PruningProgress progress);

    /** Within a step: {@code done} of {@code total} candidates scored (for heartbeats on long steps). */
    default void onCandidate(int step, int done, int total) {
    }

    /** Progress as a fraction; a pruning run reports its steps through {@link #onStep} instead. */
    @Override
    default void progress(double fraction, String message) {
    }
}
