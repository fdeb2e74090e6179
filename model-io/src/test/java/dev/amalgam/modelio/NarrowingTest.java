package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The blocked BF16 narrowing of {@link Narrowing#encode} against a plain per-element reference. */
class NarrowingTest {

    /**
     * Round to nearest, ties to even, on the bits: keep the upper 16, add one when the dropped 16 are above half,
     * or exactly half and the kept part is odd (a carry into the exponent is the correct rounding, up to
     * infinity); a NaN keeps its sign and upper payload with the quiet bit set.
     */
    private static short reference(float x) {
        int bits = Float.floatToRawIntBits(x);
        int kept = bits >>> 16;
        if (Float.isNaN(x)) {
            return (short) (kept | 0x0040);
        }
        int dropped = bits & 0xffff;
        if (dropped > 0x8000 || (dropped == 0x8000 && (kept & 1) == 1)) {
            kept++;
        }
        return (short) kept;
    }

    /** Every upper half with the low halves that decide the rounding, then the special values: 458,769 floats. */
    private static float[] values() {
        List<Float> v = new ArrayList<>();
        int[] lows = {0x0000, 0x0001, 0x7fff, 0x8000, 0x8001, 0xffff, 0x4321};
        for (int hi = 0; hi < 1 << 16; hi++) {
            for (int lo : lows) {
                v.add(Float.intBitsToFloat(hi << 16 | lo));
            }
        }
        float[] specials = {Float.NaN, Float.intBitsToFloat(0x7f800001), Float.intBitsToFloat(0xff812345),
            Float.intBitsToFloat(0x7fc0ffff), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE,
            -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 0f, -0f,
            1f + 0x1p-8f, 1f + 0x3p-8f, -(1f + 0x1p-8f), 0x1.ffp-127f};
        for (float s : specials) {
            v.add(s);
        }
        float[] a = new float[v.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = v.get(i);
        }
        return a;
    }

    private static void assertEncodes(float[] src, int off, int n) {
        ByteBuffer dst = ByteBuffer.allocateDirect(n * 2 + 2).order(ByteOrder.LITTLE_ENDIAN);
        dst.putShort(n * 2, (short) 0x5a5a); // past the end: must stay untouched
        Narrowing.encode(DType.BF16, src, off, n, dst);
        for (int i = 0; i < n; i++) {
            assertThat(dst.getShort(2 * i)).as("n %d, offset %d, element %d (%08x)", n, off, i,
                    Float.floatToRawIntBits(src[off + i])).isEqualTo(reference(src[off + i]));
        }
        assertThat(dst.getShort(n * 2)).as("the short after the last").isEqualTo((short) 0x5a5a);
    }

    @Test
    void everyRoundingCaseAndSpecialValueEqualsThePlainReference() {
        float[] v = values();
        assertEncodes(v, 0, v.length); // an odd length: the last element after the blocks
        assertEncodes(v, 1, v.length - 1); // an odd offset, an even length
    }

    @Test
    void lengthsAndOffsetsAroundBlockEdgesEqualThePlainReference() {
        SplittableRandom r = new SplittableRandom(7);
        float[] v = new float[3 * Narrowing.BF16_BLOCK + 11];
        for (int i = 0; i < v.length; i++) {
            v[i] = Float.intBitsToFloat(r.nextInt()); // every exponent, NaNs and subnormals included
        }
        int b = Narrowing.BF16_BLOCK;
        for (int n : new int[] {0, 1, 2, 3, b - 1, b, b + 1, b + 2, 2 * b - 1, 2 * b + 1, 3 * b + 5}) {
            for (int off : new int[] {0, 1, 5}) {
                assertEncodes(v, off, n);
            }
        }
    }
}
