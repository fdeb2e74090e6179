package dev.amalgam.modelio;

/**
 * Bit-exact conversions between {@code float} and the narrow float formats, rounding to nearest,
 * ties to even (as PyTorch's {@code .to(torch.bfloat16)} / {@code .half()} do).
 *
 * <p>Half-precision and BF16 values travel as the raw 16 bits in a {@code short}; FP8 values as the raw
 * byte. Widening is exact. Narrowing keeps NaN a (quiet) NaN with its sign, overflows F16 to
 * infinity, and produces subnormals where the target format has them. FP8 follows the OCP 8-bit
 * floating point specification: E4M3 has no infinities (only S.1111.111 is NaN, max 448) and
 * narrowing saturates to +-448 (infinities included); E5M2 is IEEE-like (infinities, max 57344).
 */
public final class Dtypes {

    private static final float[] F16_TABLE = new float[1 << 16];
    private static final float[] E4M3_TABLE = new float[256];
    private static final float[] E5M2_TABLE = new float[256];

    static {
        for (int i = 0; i < F16_TABLE.length; i++) {
            F16_TABLE[i] = decodeF16(i);
        }
        for (int i = 0; i < 256; i++) {
            E4M3_TABLE[i] = decodeE4M3(i);
            // E5M2 is the top byte of an IEEE half: same sign, exponent width and bias.
            E5M2_TABLE[i] = decodeF16(i << 8);
        }
    }

    private Dtypes() {
    }

    /** Widens BF16 bits to float (exact). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Narrows a float to BF16 bits, round to nearest even; NaN stays a quiet NaN of the same sign. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        // Adding 0x7fff plus the lowest kept bit rounds ties to even; a carry may reach the exponent
        // (and turn the largest finite values into infinity), which is the correct rounding.
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    /** Widens IEEE half-precision bits to float (exact, subnormals included). */
    public static float f16ToFloat(short bits) {
        return F16_TABLE[bits & 0xffff];
    }

    /**
     * Narrows a float to IEEE half-precision bits, round to nearest even. Values of magnitude
     * {@code >= 65520} become infinity, tiny values become subnormals or (signed) zero.
     */
    public static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs >= 0x7f800000) {
            if (abs == 0x7f800000) {
                return (short) (sign | 0x7c00);
            }
            return (short) (sign | 0x7e00 | ((abs >>> 13) & 0x3ff));
        }
        if (abs >= 0x477ff000) {
            // 65520 is the midpoint between 65504 (max half, odd mantissa) and 65536: ties go up.
            return (short) (sign | 0x7c00);
        }
        if (abs >= 0x38800000) {
            // Normal half: rebias the exponent (127 -> 15) and round the 23-bit mantissa to 10 bits.
            int v = abs - 0x38000000;
            v += 0xfff + ((v >>> 13) & 1);
            return (short) (sign | (v >>> 13));
        }
        // Subnormal half (unit 2^-24): adding 0.5f, whose ulp is exactly 2^-24, lets the FPU round
        // to nearest even; the mantissa bits then hold the half's subnormal count (1024 = min normal).
        float magnitude = Float.intBitsToFloat(abs);
        int m = Float.floatToRawIntBits(magnitude + 0.5f) - 0x3f000000;
        return (short) (sign | m);
    }

    /** Widens an OCP FP8 E4M3 byte to float (exact). */
    public static float e4m3ToFloat(byte bits) {
        return E4M3_TABLE[bits & 0xff];
    }

    /** Widens an OCP FP8 E5M2 byte to float (exact). */
    public static float e5m2ToFloat(byte bits) {
        return E5M2_TABLE[bits & 0xff];
    }

    /**
     * Narrows a float to OCP FP8 E4M3, round to nearest even, saturating finite values and
     * infinities to +-448 (the format has no infinity); NaN becomes S.1111.111.
     */
    public static byte floatToE4M3(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 24) & 0x80;
        int abs = bits & 0x7fffffff;
        if (abs > 0x7f800000) {
            return (byte) (sign | 0x7f);
        }
        float magnitude = Float.intBitsToFloat(abs);
        if (magnitude >= 448f) {
            // Saturating mode of the OCP spec: everything at or beyond the max (448) becomes 448.
            return (byte) (sign | 0x7e);
        }
        if (magnitude < 0x1p-6f) {
            // Subnormal E4M3 (unit 2^-9): 2^-9 is the ulp of 2^14 in float, so adding 2^14 rounds RNE.
            int m = Float.floatToRawIntBits(magnitude + 0x1p14f) - Float.floatToRawIntBits(0x1p14f);
            return (byte) (sign | m);
        }
        // Normal: rebias exponent (127 -> 7) and round 23 mantissa bits to 3.
        int v = abs - (120 << 23);
        v += 0x7ffff + ((v >>> 20) & 1);
        return (byte) (sign | (v >>> 20));
    }

    /**
     * Narrows a float to OCP FP8 E5M2, round to nearest even; overflow goes to infinity, NaN stays NaN.
     */
    public static byte floatToE5M2(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 24) & 0x80;
        int abs = bits & 0x7fffffff;
        if (abs > 0x7f800000) {
            return (byte) (sign | 0x7e);
        }
        float magnitude = Float.intBitsToFloat(abs);
        if (magnitude >= 61440f) {
            // 61440 is the midpoint between 57344 (max, odd mantissa) and 65536: ties go to infinity.
            return (byte) (sign | 0x7c);
        }
        if (magnitude < 0x1p-14f) {
            // Subnormal E5M2 (unit 2^-16): 2^-16 is the ulp of 2^7 in float, so adding 2^7 rounds RNE.
            int m = Float.floatToRawIntBits(magnitude + 0x1p7f) - Float.floatToRawIntBits(0x1p7f);
            return (byte) (sign | m);
        }
        // Normal: rebias the exponent (127 -> 15) and round 23 mantissa bits to 2.
        int v = abs - (112 << 23);
        v += 0xfffff + ((v >>> 21) & 1);
        return (byte) (sign | (v >>> 21));
    }

    private static float decodeF16(int h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return Float.intBitsToFloat(sign | Float.floatToRawIntBits(v));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    private static float decodeE4M3(int b) {
        int sign = (b & 0x80) << 24;
        int exp = (b >>> 3) & 0xf;
        int mant = b & 0x7;
        if (exp == 0xf && mant == 0x7) {
            return Float.intBitsToFloat(sign | 0x7fc00000);
        }
        if (exp == 0) {
            float v = mant * 0x1p-9f;
            return Float.intBitsToFloat(sign | Float.floatToRawIntBits(v));
        }
        return Float.intBitsToFloat(sign | ((exp + 120) << 23) | (mant << 20));
    }
}
