package dev.amalgam.modelio;

import java.nio.ByteBuffer;

/** Encodes floats into a little-endian buffer in a floating dtype (round to nearest even). */
final class Narrowing {

    private Narrowing() {
    }

    /** Puts {@code n} encoded values at absolute positions from 0 of {@code dst}. */
    static void encode(DType t, float[] src, int off, int n, ByteBuffer dst) {
        switch (t) {
            case F32 -> dst.asFloatBuffer().put(src, off, n);
            case BF16 -> {
                for (int k = 0; k < n; k++) {
                    dst.putShort(k << 1, Dtypes.floatToBf16(src[off + k]));
                }
            }
            case F16 -> {
                for (int k = 0; k < n; k++) {
                    dst.putShort(k << 1, Dtypes.floatToF16(src[off + k]));
                }
            }
            case F64 -> {
                for (int k = 0; k < n; k++) {
                    dst.putDouble(k << 3, src[off + k]);
                }
            }
            case F8_E4M3 -> {
                for (int k = 0; k < n; k++) {
                    dst.put(k, Dtypes.floatToE4M3(src[off + k]));
                }
            }
            case F8_E5M2 -> {
                for (int k = 0; k < n; k++) {
                    dst.put(k, Dtypes.floatToE5M2(src[off + k]));
                }
            }
            default -> throw new IllegalArgumentException("cannot narrow floats to " + t);
        }
    }
}
