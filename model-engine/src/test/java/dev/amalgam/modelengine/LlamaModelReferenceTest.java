package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The engine's logits against the naive double-precision reference, for every architecture switch. */
class LlamaModelReferenceTest {

    static Stream<Arguments> fixtures() {
        return Stream.of(Arguments.of("llama", TinyFixture.llama()), Arguments.of("llama3-gqa-tied", TinyFixture.llama3()),
                Arguments.of("mistral-window", TinyFixture.mistral()), Arguments.of("qwen2-bias", TinyFixture.qwen2()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void logitsMatchReferenceDenseAndWithSkippedBlocks(String name, TinyFixture f) {
        int[][] ids = randomIds(f.config.vocabSize(), 2, 9, 5);
        try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
            NaiveLlama ref = f.reference();
            int last = f.config.numHiddenLayers() - 1;
            BlockMask[] masks = {BlockMask.none(), BlockMask.none().skipAttention(0).skipMlp(last),
                    BlockMask.none().skipLayer(1).skipAttention(last)};
            for (BlockMask mask : masks) {
                NDArray logits = model.logits(m.create(ids), null, mask);
                assertThat(logits.getShape().getShape()).containsExactly(2, 9, f.config.vocabSize());
                double[][][] expected = ref.logits(ids, null, skipped(mask, true, f), skipped(mask, false, f));
                assertClose(logits.toFloatArray(), expected, null);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void paddedBatchesMatchReferenceOnRealTokens(String name, TinyFixture f) {
        int[][] ids = randomIds(f.config.vocabSize(), 3, 8, 6);
        int[][] mask = {
            {1, 1, 1, 1, 1, 1, 1, 1},
            {1, 1, 1, 1, 1, 0, 0, 0}, // right padding
            {0, 0, 0, 1, 1, 1, 1, 1}, // left padding (generation style)
        };
        try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
            BlockMask skip = BlockMask.none().skipMlp(0);
            NDArray logits = model.logits(m.create(ids), m.create(mask), skip);
            double[][][] expected = f.reference().logits(ids, mask, Set.of(), Set.of(0));
            assertClose(logits.toFloatArray(), expected, mask);
            // The left-padded row equals the same tokens run alone, unpadded.
            int[][] alone = {{ids[2][3], ids[2][4], ids[2][5], ids[2][6], ids[2][7]}};
            float[] single = model.logits(m.create(alone), null, skip).toFloatArray();
            float[] all = logits.toFloatArray();
            int v = f.config.vocabSize();
            for (int t = 0; t < 5; t++) {
                for (int j = 0; j < v; j++) {
                    assertThat(all[(2 * 8 + 3 + t) * v + j]).isCloseTo(single[t * v + j],
                            org.assertj.core.data.Offset.offset(1e-4f));
                }
            }
        }
    }

    static Set<Integer> skipped(BlockMask mask, boolean attention, TinyFixture f) {
        java.util.Set<Integer> s = new java.util.HashSet<>();
        for (int i = 0; i < f.config.numHiddenLayers(); i++) {
            if (attention ? mask.skipsAttention(i) : mask.skipsMlp(i)) {
                s.add(i);
            }
        }
        return s;
    }

    static int[][] randomIds(int vocab, int batch, int seq, long seed) {
        Random r = new Random(seed);
        int[][] ids = new int[batch][seq];
        for (int[] row : ids) {
            for (int i = 0; i < seq; i++) {
                row[i] = r.nextInt(vocab);
            }
        }
        return ids;
    }

    /** Engine vs reference within 1e-4 of each position's largest reference logit; only real tokens if mask given. */
    static void assertClose(float[] actual, double[][][] expected, int[][] mask) {
        int v = expected[0][0].length;
        int seq = expected[0].length;
        double worst = 0;
        for (int b = 0; b < expected.length; b++) {
            for (int t = 0; t < seq; t++) {
                if (mask != null && mask[b][t] == 0) {
                    continue;
                }
                double scale = 0;
                for (double e : expected[b][t]) {
                    scale = Math.max(scale, Math.abs(e));
                }
                for (int j = 0; j < v; j++) {
                    double diff = Math.abs(actual[(b * seq + t) * v + j] - expected[b][t][j]) / scale;
                    worst = Math.max(worst, diff);
                }
            }
        }
        assertThat(worst).as("max relative logit error").isLessThan(1e-4);
    }
}
