package dev.amalgam.job;

/** Thrown by work that stopped because {@link Progress#isCancelled()} said so; it is not a failure. */
public class CancelledException extends RuntimeException {

    public CancelledException() {
        this("cancelled");
    }

    /** @param message what was stopped and what remains to resume from */
    public CancelledException(String message) {
        super(message, null, false, false);
    }
}
