package dev.amalgam.modelengine.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class SamplerTest {

    // probabilities at T = 1: exp(l) / sum = 0.5, 0.25, 0.125, 0.125 (shifted by an offset of 2)
    private static final float[] ROW = {9f, 9f, (float) Math.log(4), (float) Math.log(2), 0f, 0f};

    private static double[] frequencies(GenerationConfig c, int draws) {
        Sampler s = new Sampler(c);
        double[] f = new double[4];
        for (int i = 0; i < draws; i++) {
            f[s.next(ROW, 2, 4)]++;
        }
        for (int i = 0; i < 4; i++) {
            f[i] /= draws;
        }
        return f;
    }

    @Test
    void temperatureOneSamplesTheSoftmax() {
        double[] f = frequencies(new GenerationConfig(1, 1.0, 1.0, 0, 3, true), 40_000);
        assertThat(f[0]).isCloseTo(0.5, within(0.015));
        assertThat(f[1]).isCloseTo(0.25, within(0.015));
        assertThat(f[2]).isCloseTo(0.125, within(0.015));
        assertThat(f[3]).isCloseTo(0.125, within(0.015));
    }

    @Test
    void theFirstDrawsOfNeighbouringSeedsAreIndependent() {
        // the n choices of a request sample with seeds seed, seed + 1, ...: their first tokens must be independent
        // draws (java.util.Random's first draws for neighbouring seeds are nearly equal, so 8 choices nearly always
        // began with one token). Independent, all 8 agree with probability 0.5^8 + 0.25^8 + 2 * 0.125^8 = 0.4 %.
        GenerationConfig c = new GenerationConfig(1, 1.0, 1.0, 0, 0, true);
        int allEqual = 0;
        double[] f = new double[4];
        for (long block = 0; block < 2000; block++) {
            int first = -1;
            boolean same = true;
            for (long i = 0; i < 8; i++) {
                int token = new Sampler(c, block * 1000 + i).next(ROW, 2, 4);
                f[token]++;
                same &= first < 0 || token == first;
                first = token;
            }
            allEqual += same ? 1 : 0;
        }
        assertThat(allEqual).isLessThan(40); // 2 % of the blocks; expected 8
        assertThat(f[0] / 16_000).isCloseTo(0.5, within(0.02));
        assertThat(f[3] / 16_000).isCloseTo(0.125, within(0.02));
    }

    @Test
    void topKAndTopPTruncateThenRenormalise() {
        double[] k2 = frequencies(new GenerationConfig(1, 1.0, 1.0, 2, 3, true), 30_000);
        assertThat(k2[0]).isCloseTo(2.0 / 3, within(0.015));
        assertThat(k2[2] + k2[3]).isZero();
        // top-p 0.6: 0.5 < 0.6 so the second token (crossing the threshold) is kept, the rest dropped
        double[] p = frequencies(new GenerationConfig(1, 1.0, 0.6, 0, 3, true), 30_000);
        assertThat(p[0]).isCloseTo(2.0 / 3, within(0.015));
        assertThat(p[2] + p[3]).isZero();
        // top-p 0.5 keeps only the first token
        assertThat(frequencies(new GenerationConfig(1, 1.0, 0.5, 0, 3, true), 1000)[0]).isEqualTo(1.0);
    }

    @Test
    void lowTemperatureSharpensAndZeroIsArgmax() {
        double[] cold = frequencies(new GenerationConfig(1, 0.25, 1.0, 0, 3, true), 20_000);
        // p ~ 0.5^4 : 0.25^4 : 0.125^4 : 0.125^4 = 4096 : 256 : 16 : 16 (of 4384)
        assertThat(cold[0]).isCloseTo(4096.0 / 4384, within(0.01));
        assertThat(frequencies(GenerationConfig.greedy(1), 100)[0]).isEqualTo(1.0);
    }

    @Test
    void sortedPathOrdersNegativeAndPositiveLogitsAndBreaksTiesById() {
        float[] row = {-3f, 2f, -0.5f, 2f, 0f};
        // top-k 2 keeps the two tokens with logit 2 (ids 1 and 3), equally likely
        Sampler s = new Sampler(new GenerationConfig(1, 1.0, 1.0, 2, 5, true));
        int[] counts = new int[5];
        for (int i = 0; i < 20_000; i++) {
            counts[s.next(row, 0, 5)]++;
        }
        assertThat(counts[0] + counts[2] + counts[4]).isZero();
        assertThat(counts[1] / 20_000.0).isCloseTo(0.5, within(0.015));
        // top-k 3 adds the next best, 0 (id 4), not -0.5
        Sampler s3 = new Sampler(new GenerationConfig(1, 1.0, 1.0, 3, 5, true));
        for (int i = 0; i < 2000; i++) {
            int tok = s3.next(row, 0, 5);
            assertThat(tok).isIn(1, 3, 4);
        }
    }
}
