package dev.amalgam.modelio;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Element types of a safetensors file, named as in its header ({@code "BF16"}, {@code "F8_E4M3"}, ...).
 *
 * <p>Every dtype can be read as {@code float} through {@link Tensor}; the writer narrows floats to
 * {@link #F32}, {@link #F16}, {@link #BF16}, {@link #F64}, {@link #F8_E4M3} and {@link #F8_E5M2}
 * (integer dtypes are written raw).
 */
public enum DType {
    BOOL(1, false),
    U8(1, false),
    I8(1, false),
    I16(2, false),
    U16(2, false),
    F16(2, true),
    BF16(2, true),
    I32(4, false),
    U32(4, false),
    F32(4, true),
    F64(8, true),
    I64(8, false),
    U64(8, false),
    F8_E4M3(1, true),
    F8_E5M2(1, true);

    private final int size;
    private final boolean floatingPoint;

    DType(int size, boolean floatingPoint) {
        this.size = size;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** True for the IEEE-like float formats (F16, BF16, F32, F64 and the two FP8 formats). */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The name used in a safetensors header, e.g. {@code "BF16"}. */
    public String safetensorsName() {
        return name();
    }

    /**
     * Parses a safetensors header dtype name.
     *
     * @throws IllegalArgumentException naming the unknown dtype and the known ones
     */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown safetensors dtype '" + name + "'; known dtypes: "
                + Arrays.stream(values()).map(DType::safetensorsName).collect(Collectors.joining(", ")));
    }
}
