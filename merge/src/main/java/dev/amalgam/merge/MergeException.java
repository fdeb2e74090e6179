package dev.amalgam.merge;

/** A merge failed while running (after validation); no output was published. */
public class MergeException extends RuntimeException {

    public MergeException(String message, Throwable cause) {
        super(message, cause);
    }
}
