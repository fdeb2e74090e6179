package dev.amalgam.merge.method;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The sampled window ({@link TopKWindow}) gives exactly the cut of the histogram path ({@link TopK#cut}), or
 * none at all: never a different one.
 */
class TopKWindowTest {

    private static final int N = 1_500_000; // several chunks, above the sampling minimum

    /** BF16-like task vector: few distinct magnitudes, so many keys tie at the threshold. */
    private static float[] tieHeavy(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[N];
        for (int i = 0; i < N; i++) {
            x[i] = Math.round((r.nextDouble() - 0.5) * 80) * 1.2e-4f;
        }
        return x;
    }

    /** Rows of 2048 whose scales differ up to 1000x, as rows of real weight matrices do. */
    private static float[] rowScaled(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[N];
        float scale = 1;
        for (int i = 0; i < N; i++) {
            if (i % 2048 == 0) {
                scale = (float) Math.pow(10, 3 * r.nextDouble());
            }
            x[i] = (float) r.nextGaussian() * scale;
        }
        return x;
    }

    /** Gaussian values with NaNs, infinities and signed zeros sprinkled in (their keys sort above or at 0). */
    private static float[] withSpecials(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[N];
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f};
        for (int i = 0; i < N; i++) {
            x[i] = r.nextInt(50) == 0 ? specials[r.nextInt(specials.length)] : (float) r.nextGaussian();
        }
        return x;
    }

    private static TopKWindow bracket(float[] x, int k) {
        return TopKWindow.bracket(x.length, (double) k / x.length, (from, len, keys) -> {
            for (int t = 0; t < len; t++) {
                keys[t] = Float.floatToRawIntBits(x[from + t]) & 0x7fffffff;
            }
        });
    }

    private static TopKWindow recorded(TopKWindow w, float[] x) {
        Chunks.forEach(x.length, (c, from, to) -> {
            for (int b = from; b < to; b += 1000) { // records in pieces, as callers do
                w.record(c, x, b, Math.min(1000, to - b));
            }
        });
        return w;
    }

    private static TopKCut histogramCut(float[] x, int k) {
        return TopK.cut(x, k, TopK.withHighHistogram(x.length, (from, to, h) -> {
            for (int i = from; i < to; i++) {
                h.add(i, x[i]);
            }
        }));
    }

    @Test
    void windowCutEqualsTheHistogramCutOnTiesRowScaledValuesAndSpecials() {
        for (float[] x : new float[][] {tieHeavy(1), rowScaled(2), withSpecials(5)}) {
            for (double share : new double[] {0.001, 0.1, 0.5, 0.9, 0.999}) {
                int k = (int) (share * N);
                TopKCut expected = histogramCut(x, k);
                TopKCut cut = recorded(bracket(x, k), x).cut(N, k, TopK.equalScan(x));
                assertThat(cut).as("share %s", share).isNotNull(); // the sample brackets the threshold
                assertThat(cut.bits()).isEqualTo(expected.bits());
                assertThat(cut.split()).containsExactly(expected.split());
            }
        }
    }

    @Test
    void theCutKeepsExactlyKWithTheLowestIndicesAmongEquals() {
        float[] x = tieHeavy(3);
        int k = N / 3;
        TopKCut cut = recorded(bracket(x, k), x).cut(N, k, TopK.equalScan(x));
        int kept = 0;
        int lastEqualKept = -1;
        int firstEqualDropped = Integer.MAX_VALUE;
        for (int i = 0; i < N; i++) {
            int c = i / Chunks.SIZE;
            int key = Float.floatToRawIntBits(x[i]) & 0x7fffffff;
            boolean keep = key > cut.limit(c, i);
            kept += keep ? 1 : 0;
            if (key == cut.bits()) {
                if (keep) {
                    lastEqualKept = i;
                } else {
                    firstEqualDropped = Math.min(firstEqualDropped, i);
                }
            }
        }
        assertThat(kept).isEqualTo(k);
        assertThat(lastEqualKept).isLessThan(firstEqualDropped);
    }

    @Test
    void aSampleThatMissesGivesNoCut() {
        float[] x = tieHeavy(4);
        int k = N / 2;
        // a sample of other values: the window lies far above the real threshold
        TopKWindow wrong = TopKWindow.bracket(N, 0.5, (from, len, keys) -> {
            for (int t = 0; t < len; t++) {
                keys[t] = Float.floatToRawIntBits(1000f + t) & 0x7fffffff;
            }
        });
        assertThat(recorded(wrong, x).cut(N, k, TopK.equalScan(x))).isNull();
    }

    @Test
    void smallTensorsAndTrivialSharesAreNotSampled() {
        assertThat(TopKWindow.bracket(TopKWindow.MIN_LENGTH - 1, 0.5, (f, l, keys) -> { })).isNull();
        assertThat(TopKWindow.bracket(N, 0, (f, l, keys) -> { })).isNull();
        assertThat(TopKWindow.bracket(N, 1, (f, l, keys) -> { })).isNull();
    }
}
