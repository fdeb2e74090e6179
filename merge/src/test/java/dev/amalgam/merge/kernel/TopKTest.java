package dev.amalgam.merge.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link TopK#select} keeps exactly the elements a sort keeps: the k largest magnitudes, the lowest indices first
 * among equal ones; small tensors (every key listed), sampled ones, and samples that miss.
 */
class TopKTest {

    private static final int LARGE = 1_500_000; // several chunks, above the sampling minimum

    /** BF16-like task vector: few distinct magnitudes, so many keys tie at the threshold. */
    private static float[] tieHeavy(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = Math.round((r.nextDouble() - 0.5) * 80) * 1.2e-4f;
        }
        return x;
    }

    /** Rows of 2048 whose scales differ up to 1000x, as rows of real weight matrices do. */
    private static float[] rowScaled(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        float scale = 1;
        for (int i = 0; i < n; i++) {
            if (i % 2048 == 0) {
                scale = (float) Math.pow(10, 3 * r.nextDouble());
            }
            x[i] = (float) (gauss(r) * scale);
        }
        return x;
    }

    /** Gaussian values with NaNs, infinities and signed zeros sprinkled in (their keys sort above or at 0). */
    private static float[] withSpecials(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f};
        for (int i = 0; i < n; i++) {
            x[i] = r.nextInt(50) == 0 ? specials[r.nextInt(specials.length)] : (float) gauss(r);
        }
        return x;
    }

    private static double gauss(SplittableRandom r) {
        double u = r.nextDouble(1e-12, 1);
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** The plain definition: sort the indices by |x| descending (as float bits), then by index; keep the first k. */
    private static boolean[] sortedTopK(float[] x, int k) {
        long[] order = new long[x.length]; // (largest key first, then lowest index) as one ascending long
        for (int i = 0; i < x.length; i++) {
            long key = Float.floatToRawIntBits(x[i]) & 0x7fffffff;
            order[i] = ((0x7fffffffL - key) << 32) | i;
        }
        java.util.Arrays.sort(order);
        boolean[] keep = new boolean[x.length];
        for (int i = 0; i < Math.min(k, x.length); i++) {
            keep[(int) order[i]] = true;
        }
        return keep;
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (int n : new int[]{1, 7, 5000, LARGE}) {
            String[] kinds = {"tie-heavy", "row-scaled", "specials"};
            for (int kind = 0; kind < kinds.length; kind++) {
                float[] x = switch (kind) {
                    case 0 -> tieHeavy(n, n + 1);
                    case 1 -> rowScaled(n, n + 2);
                    default -> withSpecials(n, n + 3);
                };
                double[] shares = n == LARGE ? new double[]{0, 0.001, 0.5, 0.999, 1}
                        : new double[]{0, 0.001, 0.1, 0.5, 0.9, 0.999, 1};
                for (double share : shares) {
                    int k = (int) (share * n);
                    if (n < 10 && share > 0 && share < 1) {
                        k = Math.max(1, k);
                    }
                    cases.add(Arguments.of(kinds[kind] + ", n " + n + ", k " + k, x, k));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void selectKeepsWhatSortingKeeps(String name, float[] x, int k) {
        TopKCut cut = TopK.select(x, k);
        if (k >= x.length) {
            assertThat(cut).as("k >= n keeps all").isNull();
            return;
        }
        boolean[] expected = sortedTopK(x, k);
        int kept = 0;
        for (int i = 0; i < x.length; i++) {
            boolean keep = cut.keeps(i, x[i]);
            kept += keep ? 1 : 0;
            if (keep != expected[i]) {
                assertThat(keep).as("element %d (%s)", i, x[i]).isEqualTo(expected[i]);
            }
        }
        assertThat(kept).isEqualTo(k);
        float[] applied = x.clone();
        cut.applyInPlace(applied);
        for (int i = 0; i < x.length; i++) {
            int bits = Float.floatToRawIntBits(expected[i] ? x[i] : 0f); // dropped elements become +0
            if (Float.floatToRawIntBits(applied[i]) != bits) {
                assertThat(applied[i]).as("applied, element %d", i).isEqualTo(expected[i] ? x[i] : 0f);
            }
        }
    }

    @ParameterizedTest(name = "a sample that misses: {0}")
    @MethodSource("missCases")
    void aSampleThatMissesStillGivesTheExactCut(String name, float[] x, int k) {
        // the sample (reads of a few elements) sees values far above the real ones: the window misses
        TopK.Values misleading = (from, len, dst, scratch) -> {
            for (int t = 0; t < len; t++) {
                dst[0][t] = len <= 4 ? 1000f + t : x[from + t];
            }
        };
        TopKCut cut = TopK.select(x.length, new int[]{k}, misleading)[0];
        boolean[] expected = sortedTopK(x, k);
        for (int i = 0; i < x.length; i++) {
            if (cut.keeps(i, x[i]) != expected[i]) {
                assertThat(cut.keeps(i, x[i])).as("element %d", i).isEqualTo(expected[i]);
            }
        }
    }

    static Stream<Arguments> missCases() {
        return Stream.of(Arguments.of("tie-heavy, n " + LARGE + ", k n/2", tieHeavy(LARGE, 4), LARGE / 2),
                Arguments.of("row-scaled, n " + LARGE + ", k n/10", rowScaled(LARGE, 5), LARGE / 10));
    }
}
