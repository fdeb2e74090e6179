package dev.amalgam.merge.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vectorisable forms in {@link VectorMath} against plain element-by-element definitions. */
class VectorMathTest {

    private static final float[] SPECIALS = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
            Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, 1e-40f, -1e-40f};

    private static float[] values(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextInt(8) == 0 ? SPECIALS[r.nextInt(SPECIALS.length)] : (float) (r.nextGaussian() * 1e-3);
        }
        return x;
    }

    /** The naive definition: keep d where its magnitude key is above the limit, else +0; then weight it. */
    private static float naiveLoad(float d, int limit, float w) {
        if (limit == Integer.MAX_VALUE) {
            return 0f;
        }
        int key = Float.floatToRawIntBits(d) & 0x7fffffff;
        return limit < 0 || key > limit ? w * d : w * 0f;
    }

    @Test
    void loadWeightedKeepsExactlyTheKeysAboveTheLimitAndSumsInOrder() {
        int n = 3000;
        int s0 = 700; // the block starts inside d, as chunk buffers are read
        float[] d0 = values(1, s0 + n);
        float[] d1 = values(2, s0 + n);
        int[] limits = {-1, 0, 1, Float.floatToRawIntBits(1e-40f), Float.floatToRawIntBits(5e-4f),
                Float.floatToRawIntBits(Float.MAX_VALUE), VectorMath.INFINITY_KEY, VectorMath.INFINITY_KEY + 5,
                Integer.MAX_VALUE};
        for (int limit0 : limits) {
            for (int limit1 : new int[] {-1, Float.floatToRawIntBits(1e-3f), VectorMath.INFINITY_KEY}) {
                float[] v0 = new float[n];
                float[] v1 = new float[n];
                float[] sum = new float[n];
                VectorMath.loadWeighted(v0, sum, true, d0, s0, n, limit0, -0.75f);
                VectorMath.loadWeighted(v1, sum, false, d1, s0, n, limit1, 0.5f);
                for (int t = 0; t < n; t++) {
                    float e0 = naiveLoad(d0[s0 + t], limit0, -0.75f);
                    float e1 = naiveLoad(d1[s0 + t], limit1, 0.5f);
                    // equal as values (a dropped element may be -0 instead of +0), and the sums bit for bit
                    assertThat(Float.compare(v0[t] + 0f, e0 + 0f)).as("v0 at %d, limit %d", t, limit0).isZero();
                    assertThat(Float.compare(v1[t] + 0f, e1 + 0f)).as("v1 at %d, limit %d", t, limit1).isZero();
                    float expected = 0f + e0 + e1;
                    assertThat(Float.floatToIntBits(sum[t])).as("sum at %d, limits %d %d", t, limit0, limit1)
                            .isEqualTo(Float.floatToIntBits(expected));
                }
            }
        }
    }

    @Test
    void keepFactorIsOneExactlyAboveTheThreshold() {
        float[] thresholds = {0f, Float.MIN_VALUE, 1e-40f, 5e-4f, 1f, Float.MAX_VALUE};
        for (float threshold : thresholds) {
            for (float v : values(3, 5000)) {
                float f = VectorMath.keepFactor(v, threshold);
                if (Float.isNaN(v)) {
                    assertThat(f).isNaN();
                } else {
                    assertThat(f).as("v %s, threshold %s", v, threshold).isEqualTo(Math.abs(v) > threshold ? 1f : 0f);
                }
            }
            // the nearest neighbours of the threshold itself
            float above = Math.nextUp(threshold);
            assertThat(VectorMath.keepFactor(above, threshold)).isEqualTo(1f);
            assertThat(VectorMath.keepFactor(-above, threshold)).isEqualTo(1f);
            assertThat(VectorMath.keepFactor(threshold, threshold)).isEqualTo(0f);
            if (threshold > 0) {
                assertThat(VectorMath.keepFactor(Math.nextDown(threshold), threshold)).isEqualTo(0f);
            }
        }
    }
}
