package dev.amalgam.fusion.data.arrow;

/**
 * An Arrow IPC stream this reader cannot read: corrupt, or using a feature outside the supported subset (the message
 * names it, e.g. {@code type Decimal is not supported}).
 */
public class ArrowFormatException extends IllegalArgumentException {

    public ArrowFormatException(String message) {
        super(message);
    }

    public ArrowFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
