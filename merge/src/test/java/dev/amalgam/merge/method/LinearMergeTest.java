package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.Chunks;
import static dev.amalgam.merge.method.TestInputs.flat;
import static dev.amalgam.merge.method.TestInputs.w;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LinearMergeTest {

    private final MergeMethod linear = MergeMethods.get("linear");

    @Test
    void weightedAverageByHand() {
        float[] out = TestInputs.merge(linear, flat(linear, -1, Map.of(), List.of(w(1), w(3)),
                new float[]{1, 2}, new float[]{3, 6}));
        // (1*1 + 3*3) / 4 = 2.5 ; (1*2 + 3*6) / 4 = 5
        assertThat(out).containsExactly(2.5f, 5f);
    }

    @Test
    void withoutNormalizeIsTheWeightedSum() {
        float[] out = TestInputs.merge(linear, flat(linear, -1, Map.of("normalize", false), List.of(w(1), w(3)),
                new float[]{1, 2}, new float[]{3, 6}));
        assertThat(out).containsExactly(10f, 20f);
    }

    @Test
    void oneModelAtWeightOneGivesThatModel() {
        float[] x = TestInputs.random(1000, 1, 0.02);
        assertThat(TestInputs.merge(linear, flat(linear, -1, Map.of(), List.of(w(1)), x))).containsExactly(x);
    }

    @Test
    void zeroWeightSumWithNormalizeFails() {
        assertThatThrownBy(() -> TestInputs.merge(linear, flat(linear, -1, Map.of(), List.of(w(1), w(-1)),
                new float[]{1}, new float[]{2}))).hasMessageContaining("sum to 0");
    }

    /**
     * Bit for bit the plain element-wise loop in FP32, in mergekit's order ((w0 x0 + w1 x1) + ...) / sum(w), for 1
     * to 4 models over several chunks, with and without normalisation, NaN and infinities included.
     */
    @Test
    void equalsThePlainFp32LoopBitForBit() {
        int n = 2 * Chunks.SIZE + 123;
        for (int k = 1; k <= 4; k++) {
            for (boolean normalize : new boolean[] {true, false}) {
                float[][] xs = new float[k][];
                List<Map<String, Object>> per = new java.util.ArrayList<>();
                float[] ws = new float[k];
                double wsum = 0; // the weights are summed in double, as config numbers are
                for (int m = 0; m < k; m++) {
                    xs[m] = TestInputs.random(n, 10 + m, 1);
                    xs[m][m] = Float.NaN;
                    xs[m][n - 1 - m] = m % 2 == 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
                    ws[m] = 0.1f + 0.3f * m;
                    wsum += ws[m];
                    per.add(w(ws[m]));
                }
                float div = normalize ? (float) wsum : 1f;
                float[] out = TestInputs.merge(linear, flat(linear, -1, Map.of("normalize", normalize), per, xs));
                for (int i = 0; i < n; i++) {
                    float acc = ws[0] * xs[0][i];
                    for (int m = 1; m < k; m++) {
                        acc = acc + ws[m] * xs[m][i];
                    }
                    float expected = acc / div;
                    assertThat(Float.floatToIntBits(out[i])).as("k %d, normalize %s, element %d", k, normalize, i)
                            .isEqualTo(Float.floatToIntBits(expected));
                }
            }
        }
    }

    /**
     * Special values through every pass (the first model's scaling, the middle models' sums, the last model's sum
     * fused with the division): subnormal inputs and products, signed zeros, NaN, infinities, the largest finite
     * float (whose sums overflow), at the start, end and edges of chunks; bit for bit the plain loop.
     */
    @Test
    void specialValuesThroughEveryPassEqualThePlainLoop() {
        float[] specials = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 0x1p-130f, -0x1.8p-127f, Float.MIN_NORMAL,
            Float.MAX_VALUE, -Float.MAX_VALUE, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f, -3.5f};
        int n = Chunks.SIZE + 37;
        int[] places = {0, 1, Chunks.SIZE - 2, Chunks.SIZE - 1, Chunks.SIZE, Chunks.SIZE + 1, n - 1};
        for (int k = 1; k <= 4; k++) {
            for (double divisor : new double[] {1, 3e-3, 7.5}) {
                float[][] xs = new float[k][];
                float[] ws = new float[k];
                List<Map<String, Object>> per = new java.util.ArrayList<>();
                for (int m = 0; m < k; m++) {
                    xs[m] = TestInputs.random(n, 40 + m, 1);
                    for (int p = 0; p < places.length; p++) {
                        for (int j = 0; j < specials.length; j++) {
                            // each special meets every other in some model at some place
                            int i = Math.min(n - 1, places[p] + j);
                            xs[m][i] = specials[(j + 3 * m + p) % specials.length];
                        }
                    }
                    ws[m] = m == 1 ? 0x1p-20f : (float) (divisor / k); // a tiny weight makes subnormal products
                    per.add(w(ws[m]));
                }
                double wsum = 0;
                for (float x : ws) {
                    wsum += x;
                }
                float div = (float) wsum;
                float[] out = TestInputs.merge(linear, flat(linear, -1, Map.of(), per, xs));
                for (int i = 0; i < n; i++) {
                    float acc = ws[0] * xs[0][i];
                    for (int m = 1; m < k; m++) {
                        acc = acc + ws[m] * xs[m][i];
                    }
                    assertThat(Float.floatToIntBits(out[i])).as("k %d, divisor %s, element %d", k, divisor, i)
                            .isEqualTo(Float.floatToIntBits(acc / div));
                }
            }
        }
    }

    @Test
    void matchesNaiveReferenceOnRandomTensors() {
        float[][] xs = {TestInputs.random(257, 2, 1), TestInputs.random(257, 3, 1), TestInputs.random(257, 4, 1)};
        double[] ws = {0.2, 0.5, 0.3};
        float[] out = TestInputs.merge(linear, flat(linear, -1, Map.of(), List.of(w(ws[0]), w(ws[1]), w(ws[2])), xs));
        for (int i = 0; i < 257; i++) {
            double ref = (ws[0] * xs[0][i] + ws[1] * xs[1][i] + ws[2] * xs[2][i]) / 1.0;
            assertThat(out[i]).isCloseTo((float) ref, within(1e-5f));
        }
    }
}
