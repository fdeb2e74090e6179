package dev.amalgam.modelio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/** Encodes floats into a little-endian buffer in a floating dtype (round to nearest even). */
final class Narrowing {

    /** Per-thread staging array, sized for the writer's 1 MiB chunks of 2-byte elements. */
    static final int MAX_ELEMENTS = 1 << 20;
    private static final ThreadLocal<short[]> SHORTS = ThreadLocal.withInitial(() -> new short[MAX_ELEMENTS]);
    /** Elements per block of the BF16 path (its arrays stay in the L1 cache). */
    static final int BF16_BLOCK = 4096;
    private static final ThreadLocal<Bf16Blocks> BF16_BLOCKS = ThreadLocal.withInitial(Bf16Blocks::new);

    /**
     * Per-thread blocks of the BF16 path: a direct buffer through which a bulk copy turns floats into their bits
     * (it measured cheaper than a loop of {@code Float.floatToRawIntBits}), the bits, and the packed output pairs.
     */
    private static final class Bf16Blocks {
        final ByteBuffer bytes = ByteBuffer.allocateDirect(BF16_BLOCK * Float.BYTES).order(ByteOrder.nativeOrder());
        final FloatBuffer floats = bytes.asFloatBuffer();
        final IntBuffer ints = bytes.asIntBuffer();
        final int[] bits = new int[BF16_BLOCK];
        final int[] pairs = new int[BF16_BLOCK / 2];
    }

    private Narrowing() {
    }

    /** Puts {@code n <= MAX_ELEMENTS} encoded values at absolute positions from 0 of {@code dst}. */
    static void encode(DType t, float[] src, int off, int n, ByteBuffer dst) {
        switch (t) {
            case F32 -> dst.asFloatBuffer().put(src, off, n);
            case BF16 -> encodeBf16(src, off, n, dst);
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

    /**
     * BF16 in blocks, with the same bits as {@link Dtypes#floatToBf16}: the floats' bits by a bulk copy, rounded in
     * a loop of branch-free int arithmetic (which C2 vectorises), two results packed per int (little-endian: the
     * first in the low half) and stored by one bulk copy.
     */
    private static void encodeBf16(float[] src, int off, int n, ByteBuffer dst) {
        Bf16Blocks b = BF16_BLOCKS.get();
        int[] bits = b.bits;
        int[] pairs = b.pairs;
        IntBuffer out = dst.asIntBuffer();
        int even = n & ~1;
        for (int from = 0; from < even; from += BF16_BLOCK) {
            int m = Math.min(BF16_BLOCK, even - from);
            b.floats.put(0, src, off + from, m);
            b.ints.get(0, bits, 0, m);
            for (int k = 0; k < m; k++) {
                bits[k] = roundedBf16Bits(bits[k]);
            }
            for (int j = 0; j < m / 2; j++) {
                pairs[j] = (bits[2 * j] >>> 16) | (bits[2 * j + 1] & 0xffff0000);
            }
            out.put(from / 2, pairs, 0, m / 2);
        }
        if (even < n) {
            dst.putShort(even * 2, Dtypes.floatToBf16(src[off + even]));
        }
    }

    /**
     * Float bits whose upper 16 are {@link Dtypes#floatToBf16} of them: round to nearest even, or for a NaN the
     * quiet bit set; the choice by a mask, not a branch.
     */
    static int roundedBf16Bits(int bits) {
        int nan = (0x7f800000 - (bits & 0x7fffffff)) >> 31; // all ones for a NaN
        return ((bits + 0x7fff + ((bits >>> 16) & 1)) & ~nan) | ((bits | 0x00400000) & nan);
    }
}
