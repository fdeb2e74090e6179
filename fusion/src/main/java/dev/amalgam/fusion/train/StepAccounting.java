package dev.amalgam.fusion.train;

import java.util.Locale;

/**
 * How micro-batches become optimizer steps.
 *
 * <ul>
 *   <li>{@link #REFERENCE}: what the WRPO authors' trainer does (Hugging Face transformers 4.43's training loop). The
 *       micro-batches of all epochs form one stream; a step ends after every {@code gradAccum}-th micro-batch of that
 *       stream (so a window may start in one epoch and end in the next), or at the last micro-batch of an epoch that
 *       has at most {@code gradAccum} micro-batches. The run stops after {@code epochs * max(1, M / gradAccum)} steps
 *       (M micro-batches per epoch, integer division): the micro-batches after the last full window make no step.
 *       The WRPO alpha schedule's N is {@code epochs * (M / gradAccum)}, as the authors compute it.</li>
 *   <li>{@link #ALL_BATCHES}: every micro-batch reaches an optimizer step: each epoch is cut into windows of
 *       {@code gradAccum} micro-batches, and an epoch's last, shorter window makes a step of its own; N = the number
 *       of steps.</li>
 * </ul>
 */
public enum StepAccounting {
    REFERENCE("reference"),
    ALL_BATCHES("all-batches");

    private final String id;

    StepAccounting(String id) {
        this.id = id;
    }

    /** The spec's spelling. */
    public String id() {
        return id;
    }

    public static StepAccounting fromId(String id) {
        for (StepAccounting a : values()) {
            if (a.id.equals(id.toLowerCase(Locale.ROOT))) {
                return a;
            }
        }
        throw new IllegalArgumentException("must be reference or all-batches, got " + id);
    }
}
