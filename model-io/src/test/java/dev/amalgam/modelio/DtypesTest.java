package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;

class DtypesTest {

    private static short bf16(float f) {
        return Dtypes.floatToBf16(f);
    }

    private static float bits(int b) {
        return Float.intBitsToFloat(b);
    }

    @Test
    void bf16HandComputedPatterns() {
        assertThat(bf16(1.0f)).isEqualTo((short) 0x3F80);
        assertThat(bf16(-2.0f)).isEqualTo((short) 0xC000);
        assertThat(bf16(-0.0f)).isEqualTo((short) 0x8000);
        // exactly halfway between 0x3F80 and 0x3F81: ties to the even 0x3F80
        assertThat(bf16(bits(0x3F808000))).isEqualTo((short) 0x3F80);
        // halfway between 0x3F81 and 0x3F82: ties to the even 0x3F82
        assertThat(bf16(bits(0x3F818000))).isEqualTo((short) 0x3F82);
        // just above halfway rounds up
        assertThat(bf16(bits(0x3F808001))).isEqualTo((short) 0x3F81);
        assertThat(bf16(bits(0x3F807FFF))).isEqualTo((short) 0x3F80);
        assertThat(bf16(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7F80);
        assertThat(bf16(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xFF80);
        // largest float is above the midpoint of bf16 max and 2^128: rounds to infinity
        assertThat(bf16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80);
        // a signalling NaN whose payload lives only in the dropped bits must stay NaN
        assertThat(bf16(bits(0x7F800001))).isEqualTo((short) 0x7FC0);
        assertThat(bf16(bits(0xFFC00000))).isEqualTo((short) 0xFFC0);
        // float subnormal
        assertThat(bf16(bits(0x00010000))).isEqualTo((short) 0x0001);
        assertThat(Dtypes.bf16ToFloat((short) 0x4049)).isEqualTo(3.140625f);
        assertThat(Dtypes.bf16ToFloat((short) 0xFF80)).isEqualTo(Float.NEGATIVE_INFINITY);
    }

    @Test
    void f16HandComputedPatterns() {
        assertThat(Dtypes.floatToF16(1.0f)).isEqualTo((short) 0x3C00);
        assertThat(Dtypes.floatToF16(-2.0f)).isEqualTo((short) 0xC000);
        assertThat(Dtypes.floatToF16(-0.0f)).isEqualTo((short) 0x8000);
        assertThat(Dtypes.floatToF16(65504f)).isEqualTo((short) 0x7BFF);
        assertThat(Dtypes.floatToF16(65519.99f)).isEqualTo((short) 0x7BFF);
        // 65520 is the tie between 65504 (odd mantissa) and 2^16: overflows to infinity
        assertThat(Dtypes.floatToF16(65520f)).isEqualTo((short) 0x7C00);
        assertThat(Dtypes.floatToF16(-1e6f)).isEqualTo((short) 0xFC00);
        assertThat(Dtypes.floatToF16(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7C00);
        assertThat(Dtypes.floatToF16(Float.NaN)).isEqualTo((short) 0x7E00);
        assertThat(Dtypes.floatToF16(bits(0x7F800001)) & 0x7FFF).isGreaterThan(0x7C00);
        // ties at 1.0: ulp is 2^-10
        assertThat(Dtypes.floatToF16(1f + 0x1p-11f)).isEqualTo((short) 0x3C00);
        assertThat(Dtypes.floatToF16(1f + 3 * 0x1p-11f)).isEqualTo((short) 0x3C02);
        // subnormals: unit 2^-24
        assertThat(Dtypes.floatToF16(0x1p-24f)).isEqualTo((short) 0x0001);
        assertThat(Dtypes.floatToF16(0x1p-25f)).isEqualTo((short) 0x0000);
        assertThat(Dtypes.floatToF16(-0x1p-25f)).isEqualTo((short) 0x8000);
        assertThat(Dtypes.floatToF16(1.5f * 0x1p-25f)).isEqualTo((short) 0x0001);
        assertThat(Dtypes.floatToF16(3f * 0x1p-25f)).isEqualTo((short) 0x0002);
        assertThat(Dtypes.floatToF16(1023f * 0x1p-24f)).isEqualTo((short) 0x03FF);
        assertThat(Dtypes.floatToF16(1023.5f * 0x1p-24f)).isEqualTo((short) 0x0400);
        assertThat(Dtypes.floatToF16(0x1p-14f)).isEqualTo((short) 0x0400);

        assertThat(Dtypes.f16ToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(Dtypes.f16ToFloat((short) 0x7BFF)).isEqualTo(65504f);
        assertThat(Dtypes.f16ToFloat((short) 0x3555)).isEqualTo(0.333251953125f);
        assertThat(Dtypes.f16ToFloat((short) 0xC000)).isEqualTo(-2f);
        assertThat(Dtypes.f16ToFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Dtypes.f16ToFloat((short) 0x7E00)).isNaN();
        assertThat(Float.floatToRawIntBits(Dtypes.f16ToFloat((short) 0x8000))).isEqualTo(0x80000000);
    }

    @Test
    void fp8HandComputedPatterns() {
        // E4M3: bias 7, max 448 = 0x7E, only S.1111.111 is NaN, min subnormal 2^-9
        assertThat(Dtypes.e4m3ToFloat((byte) 0x7E)).isEqualTo(448f);
        assertThat(Dtypes.e4m3ToFloat((byte) 0x38)).isEqualTo(1f);
        assertThat(Dtypes.e4m3ToFloat((byte) 0x01)).isEqualTo(0x1p-9f);
        assertThat(Dtypes.e4m3ToFloat((byte) 0x78)).isEqualTo(256f);
        assertThat(Dtypes.e4m3ToFloat((byte) 0x7F)).isNaN();
        assertThat(Dtypes.e4m3ToFloat((byte) 0xC0)).isEqualTo(-2f);
        assertThat(Dtypes.floatToE4M3(1000f)).isEqualTo((byte) 0x7E);
        assertThat(Dtypes.floatToE4M3(Float.NEGATIVE_INFINITY)).isEqualTo((byte) 0xFE);
        assertThat(Dtypes.floatToE4M3(Float.NaN)).isEqualTo((byte) 0x7F);
        // 1.0625 is halfway between 1.0 (0x38) and 1.125 (0x39): ties to even
        assertThat(Dtypes.floatToE4M3(1.0625f)).isEqualTo((byte) 0x38);
        assertThat(Dtypes.floatToE4M3(1.1875f)).isEqualTo((byte) 0x3A);
        assertThat(Dtypes.floatToE4M3(0x1p-10f)).isEqualTo((byte) 0x00);
        // E5M2: bias 15, max 57344 = 0x7B, infinity 0x7C
        assertThat(Dtypes.e5m2ToFloat((byte) 0x7B)).isEqualTo(57344f);
        assertThat(Dtypes.e5m2ToFloat((byte) 0x3C)).isEqualTo(1f);
        assertThat(Dtypes.e5m2ToFloat((byte) 0x01)).isEqualTo(0x1p-16f);
        assertThat(Dtypes.e5m2ToFloat((byte) 0x7C)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Dtypes.e5m2ToFloat((byte) 0x7D)).isNaN();
        assertThat(Dtypes.floatToE5M2(61440f)).isEqualTo((byte) 0x7C);
        assertThat(Dtypes.floatToE5M2(61439f)).isEqualTo((byte) 0x7B);
        assertThat(Dtypes.floatToE5M2(1.125f)).isEqualTo((byte) 0x3C);
        assertThat(Dtypes.floatToE5M2(1.375f)).isEqualTo((byte) 0x3E);
        assertThat(Dtypes.floatToE5M2(Float.NaN) & 0x7F).isGreaterThan(0x7C);
    }

    @Test
    void widenThenNarrowIsIdentityForEveryNonNanCode() {
        for (int h = 0; h < 1 << 16; h++) {
            short s = (short) h;
            if (!Float.isNaN(Dtypes.f16ToFloat(s))) {
                assertThat(Dtypes.floatToF16(Dtypes.f16ToFloat(s)) & 0xFFFF).as("f16 %04x", h).isEqualTo(h);
            }
            if (!Float.isNaN(Dtypes.bf16ToFloat(s))) {
                assertThat(Dtypes.floatToBf16(Dtypes.bf16ToFloat(s)) & 0xFFFF).as("bf16 %04x", h).isEqualTo(h);
            }
        }
        for (int b = 0; b < 256; b++) {
            if (!Float.isNaN(Dtypes.e4m3ToFloat((byte) b))) {
                assertThat(Dtypes.floatToE4M3(Dtypes.e4m3ToFloat((byte) b)) & 0xFF).isEqualTo(b);
            }
            if (!Float.isNaN(Dtypes.e5m2ToFloat((byte) b))) {
                assertThat(Dtypes.floatToE5M2(Dtypes.e5m2ToFloat((byte) b)) & 0xFF).isEqualTo(b);
            }
        }
    }

    /**
     * Naive reference rounding: list every finite non-negative value of the format (decoded by
     * hand from sign/exponent/mantissa with doubles), pick the nearest, ties to the even code.
     * {@code overflowCode} is the code past the max (infinity, or max itself when saturating).
     */
    private record Format(int expBits, int mantBits, int bias, int maxCode, int overflowCode, double overflowValue) {

        double value(int code) {
            int e = code >>> mantBits;
            int m = code & ((1 << mantBits) - 1);
            return e == 0 ? m * Math.pow(2, 1 - bias - mantBits)
                    : (1 + m / Math.pow(2, mantBits)) * Math.pow(2, e - bias);
        }

        double[] table() {
            double[] t = new double[maxCode + 1];
            for (int c = 0; c <= maxCode; c++) {
                t[c] = value(c);
            }
            return t;
        }

        int round(float x, double[] table) {
            int sign = x < 0 || (x == 0 && 1 / x < 0) ? 1 << (expBits + mantBits) : 0;
            double a = Math.abs((double) x);
            int best = -1;
            double bestErr = Double.MAX_VALUE;
            for (int c = 0; c <= maxCode; c++) {
                double err = Math.abs(table[c] - a);
                if (err < bestErr || err == bestErr && (c & 1) == 0) {
                    best = c;
                    bestErr = err;
                }
            }
            double overflowErr = Math.abs(overflowValue - a);
            // past the max: overflowValue is the next value up (2^(emax+1)) with an even code
            if (a > table[maxCode] && (overflowErr < bestErr || overflowErr == bestErr)) {
                best = overflowCode;
            }
            return sign | best;
        }
    }

    private static void checkAgainstReference(Format f, IntUnaryOperator narrow, long seed) {
        Random rnd = new Random(seed);
        double[] table = f.table();
        int span = 2 * f.bias() + f.mantBits() + 5;
        for (int i = 0; i < 4000; i++) {
            float x;
            if (i % 2 == 0) {
                // exact ties and near-ties: a representable value plus half a step, +-1 float ulp
                int c = rnd.nextInt(f.maxCode() + 1);
                double step = f.value(Math.min(c + 1, f.maxCode())) - f.value(c);
                float mid = (float) (f.value(c) + step / 2);
                x = switch (i % 3) {
                    case 0 -> mid;
                    case 1 -> Math.nextUp(mid);
                    default -> Math.nextDown(mid);
                };
            } else {
                x = (float) (Math.pow(2, rnd.nextInt(span) - (f.bias() + f.mantBits() + 2)) * rnd.nextDouble());
            }
            if (rnd.nextBoolean()) {
                x = -x;
            }
            float input = x;
            assertThat(narrow.applyAsInt(Float.floatToRawIntBits(x)) & ((1 << (1 + f.expBits() + f.mantBits())) - 1))
                    .as("rounding %s (%a)", input, input).isEqualTo(f.round(input, table));
        }
    }

    @Test
    void f16MatchesNaiveNearestEvenReference() {
        Format f16 = new Format(5, 10, 15, 0x7BFF, 0x7C00, 65536);
        checkAgainstReference(f16, b -> Dtypes.floatToF16(Float.intBitsToFloat(b)) & 0xFFFF, 1);
    }

    @Test
    void fp8MatchesNaiveNearestEvenReference() {
        Format e5m2 = new Format(5, 2, 15, 0x7B, 0x7C, 65536);
        checkAgainstReference(e5m2, b -> Dtypes.floatToE5M2(Float.intBitsToFloat(b)) & 0xFF, 2);
        // saturating: past 448 stays 448
        Format e4m3 = new Format(4, 3, 7, 0x7E, 0x7E, Double.MAX_VALUE);
        checkAgainstReference(e4m3, b -> Dtypes.floatToE4M3(Float.intBitsToFloat(b)) & 0xFF, 3);
    }

    @Test
    void bf16MatchesReferenceOnRandomFloats() {
        // reference: BigDecimal-free version for bf16 is exact double arithmetic on the two neighbours
        Random rnd = new Random(4);
        for (int i = 0; i < 100_000; i++) {
            float x = Float.intBitsToFloat(rnd.nextInt());
            if (Float.isNaN(x) || Float.isInfinite(x)) {
                continue;
            }
            int b = Float.floatToRawIntBits(x);
            int down = b >>> 16;
            double lo = Dtypes.bf16ToFloat((short) down);
            double hi = Dtypes.bf16ToFloat((short) (down + 1));
            if (Double.isInfinite(hi)) {
                hi = Math.copySign(Math.pow(2, 128), x);
            }
            double dLo = Math.abs(x - lo);
            double dHi = Math.abs(hi - x);
            int expected = dLo < dHi || dLo == dHi && (down & 1) == 0 ? down : down + 1;
            assertThat(Dtypes.floatToBf16(x) & 0xFFFF).as("%a", x).isEqualTo(expected & 0xFFFF);
        }
    }

    @Test
    void dtypeNamesAndSizes() {
        assertThat(DType.fromSafetensorsName("BF16")).isEqualTo(DType.BF16);
        assertThat(DType.F8_E4M3.safetensorsName()).isEqualTo("F8_E4M3");
        assertThat(DType.F64.size()).isEqualTo(8);
        assertThat(DType.BOOL.size()).isEqualTo(1);
        assertThat(DType.I32.isFloatingPoint()).isFalse();
        assertThat(DType.F8_E5M2.isFloatingPoint()).isTrue();
        assertThatThrownBy(() -> DType.fromSafetensorsName("Q4_K"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Q4_K").hasMessageContaining("BF16");
    }
}
