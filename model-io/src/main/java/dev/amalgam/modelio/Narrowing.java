package dev.amalgam.modelio;

import java.nio.ByteBuffer;

/** Encodes floats into a little-endian buffer in a floating dtype (round to nearest even). */
final class Narrowing {

    /** Per-thread staging array, sized for the writer's 1 MiB chunks of 2-byte elements. */
    static final int MAX_ELEMENTS = 1 << 20;
    private static final ThreadLocal<short[]> SHORTS = ThreadLocal.withInitial(() -> new short[MAX_ELEMENTS]);

    private Narrowing() {
    }

    /** Puts {@code n <= MAX_ELEMENTS} encoded values at absolute positions from 0 of {@code dst}. */
    static void encode(DType t, float[] src, int off, int n, ByteBuffer dst) {
        switch (t) {
            case F32 -> dst.asFloatBuffer().put(src, off, n);
            case BF16 -> {
                // convert into a heap array first: a plain loop the JIT can unroll, then one bulk copy
                short[] s = SHORTS.get();
                for (int k = 0; k < n; k++) {
                    s[k] = Dtypes.floatToBf16(src[off + k]);
                }
                dst.asShortBuffer().put(s, 0, n);
            }
            case F16 -> {
                short[] s = SHORTS.get();
                for (int k = 0; k < n; k++) {
                    s[k] = Dtypes.floatToF16(src[off + k]);
                }
                dst.asShortBuffer().put(s, 0, n);
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
