package dev.amalgam.platform.job;

/** Life cycle of a job: QUEUED -> RUNNING -> one of the final states (RUNNING may go back to QUEUED on retry). */
public enum JobStatus {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    public boolean isFinal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }
}
