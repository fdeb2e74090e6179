package dev.amalgam.fusion.data.parquet;

/**
 * A Parquet file this reader cannot read: corrupt, or using a feature outside the supported subset (the message
 * names the feature, e.g. {@code encoding DELTA_BINARY_PACKED is not supported}).
 */
public class ParquetFormatException extends IllegalArgumentException {

    public ParquetFormatException(String message) {
        super(message);
    }

    public ParquetFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
