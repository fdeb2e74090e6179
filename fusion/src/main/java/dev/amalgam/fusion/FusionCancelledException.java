package dev.amalgam.fusion;

/** Thrown when {@link FusionListener#cancelled()} answers true; checkpoints written so far remain in the work dir. */
public final class FusionCancelledException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public FusionCancelledException(String message) {
        super(message);
    }
}
