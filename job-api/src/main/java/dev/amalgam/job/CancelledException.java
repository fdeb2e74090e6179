package dev.amalgam.job;

/** Thrown by work that stopped because {@link Progress#isCancelled()} said so; it is not a failure. */
public class CancelledException extends RuntimeException {

    public CancelledException() {
        super("cancelled", null, false, false);
    }
}
