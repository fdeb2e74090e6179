package dev.amalgam.job;

import java.util.Map;

/**
 * How long-running library code reports to whoever runs it, and learns that it should stop: the platform's worker
 * (job row, events, cancellation requests) and the CLI (a progress bar, Ctrl-C) pass their own. One interface from
 * the platform down to the libraries, so progress and cancellation work the same in every job type.
 *
 * <p>Code that can stop checks {@link #throwIfCancelled()} at its safe points (between tensors, search steps,
 * optimizer steps), after saving whatever lets a later attempt resume.
 */
public interface Progress {

    /** Reports that {@code fraction} (0..1) of the work is done. */
    void progress(double fraction, String message);

    /** Records the metrics of one step of a stage (loss, perplexity, learning rate, ...). */
    default void metrics(String stage, long step, Map<String, ? extends Number> values) {
    }

    /** A line for the job's log. */
    default void log(String message) {
    }

    /** True once the work should stop at its next safe point (cancelled, or the worker is stopping). */
    default boolean isCancelled() {
        return false;
    }

    /** Throws {@link CancelledException} when {@link #isCancelled()}. */
    default void throwIfCancelled() {
        if (isCancelled()) {
            throw new CancelledException();
        }
    }

    /** Reports nothing and never cancels. */
    Progress NONE = (fraction, message) -> {
    };
}
