package dev.amalgam.platform.worker;

/** Thrown by a handler (usually through {@link JobContext#throwIfCancelled()}) to stop a cancelled job. */
public class JobCancelledException extends RuntimeException {
    public JobCancelledException() {
        super("The job was cancelled");
    }
}
