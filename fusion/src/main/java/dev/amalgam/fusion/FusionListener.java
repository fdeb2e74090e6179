package dev.amalgam.fusion;

import java.util.Map;

/**
 * What a fusion job reports while it runs; the job handler turns these into job events and heartbeats.
 * Metric names follow TRL ({@code loss}, {@code rewards/margins}, {@code logps/rejected}, evaluation ones prefixed
 * {@code eval_}), plus {@code alpha}, {@code learning_rate}, {@code grad_norm}, {@code epoch}.
 */
public interface FusionListener {

    /** Metrics of one optimizer step ({@code step} counts within {@code stage}, from 1). */
    void metrics(String stage, long step, Map<String, Double> values);

    /** Overall progress in [0, 1] with a human message. */
    void progress(double fraction, String message);

    /** Polled between optimizer steps; true stops the job (the last checkpoint stays for a later resume). */
    default boolean cancelled() {
        return false;
    }

    /** A listener that ignores everything. */
    static FusionListener none() {
        return new FusionListener() {
            @Override
            public void metrics(String stage, long step, Map<String, Double> values) {
            }

            @Override
            public void progress(double fraction, String message) {
            }
        };
    }
}
