package dev.amalgam.modelengine;

/** A checkpoint or config the engine cannot run; the message names the offending value. */
public class UnsupportedModelException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public UnsupportedModelException(String message) {
        super(message);
    }
}
