package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LogProbsTest {

    private static final int[] PROMPT_A = {5, 17, 3};
    private static final int[] RESPONSE_A = {40, 2, 9, 11};
    private static final int[] PROMPT_B = {8, 1};
    private static final int[] RESPONSE_B = {30};

    @Test
    void summedResponseLogProbsMatchReferenceDespitePadding() {
        TinyFixture f = TinyFixture.qwen2();
        try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
            float[] sums = LogProbs.sequenceLogProbs(model, List.of(PROMPT_A, PROMPT_B), List.of(RESPONSE_A, RESPONSE_B),
                    BlockMask.none(), m).toFloatArray();
            NaiveLlama ref = f.reference();
            assertThat((double) sums[0]).isCloseTo(referenceSum(ref, PROMPT_A, RESPONSE_A), within(1e-3));
            assertThat((double) sums[1]).isCloseTo(referenceSum(ref, PROMPT_B, RESPONSE_B), within(1e-3));
        }
    }

    @Test
    void tokenLogProbsAreLogSoftmaxAtTheNextToken() {
        TinyFixture f = TinyFixture.llama();
        int[][] ids = {{3, 9, 27, 4, 60}};
        try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
            float[] lp = LogProbs.tokenLogProbs(model, m.create(ids), null, BlockMask.none().skipMlp(2)).toFloatArray();
            double[][] logits = f.reference().logits(ids, null, Set.of(), Set.of(2))[0];
            assertThat(lp).hasSize(4);
            for (int t = 0; t < 4; t++) {
                assertThat((double) lp[t]).isCloseTo(logSoftmax(logits[t], ids[0][t + 1]), within(1e-4));
            }
        }
    }

    @Test
    void gradientOfSummedLogProbsMatchesFiniteDifferenceAndSkipsUnusedBlocks() {
        TinyFixture f = TinyFixture.llama();
        String probe = "model.layers.0.mlp.down_proj.weight";
        BlockMask mask = BlockMask.none().skipAttention(1);
        double analytic;
        try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
            model.weights().setRequiresGradient(true);
            try (GradientCollector gc = DjlRuntime.engine().newGradientCollector()) {
                NDArray total = LogProbs.sequenceLogProbs(model, List.of(PROMPT_A), List.of(RESPONSE_A), mask, m).sum();
                gc.backward(total);
            }
            float[] grad = model.weights().namedParameters().get(probe).getGradient().toFloatArray();
            int best = 0;
            for (int i = 1; i < grad.length; i++) {
                best = Math.abs(grad[i]) > Math.abs(grad[best]) ? i : best;
            }
            probeIndex = best;
            analytic = grad[best];
            assertThat(Math.abs(analytic)).isGreaterThan(1e-3);
            // The skipped attention block's weights get no gradient at all.
            float[] skipped = model.weights().namedParameters().get("model.layers.1.self_attn.q_proj.weight")
                    .getGradient().toFloatArray();
            for (float g : skipped) {
                assertThat(g).isZero();
            }
        }
        double eps = 1e-2;
        double numeric = (perturbed(f, probe, eps, mask) - perturbed(f, probe, -eps, mask)) / (2 * eps);
        assertThat(analytic).isCloseTo(numeric, within(0.02 * Math.abs(numeric) + 1e-3));
    }

    private int probeIndex;

    private double perturbed(TinyFixture f, String name, double delta, BlockMask mask) {
        float[] original = f.weights.get(name).clone();
        f.weights.get(name)[probeIndex] += (float) delta;
        try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
            return LogProbs.sequenceLogProbs(model, List.of(PROMPT_A), List.of(RESPONSE_A), mask, m).getFloat(0);
        } finally {
            f.weights.put(name, original);
        }
    }

    private static double referenceSum(NaiveLlama ref, int[] prompt, int[] response) {
        int[] all = new int[prompt.length + response.length];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(response, 0, all, prompt.length, response.length);
        double[][] logits = ref.logits(new int[][] {all}, null, Set.of(), Set.of())[0];
        double sum = 0;
        for (int t = prompt.length - 1; t < all.length - 1; t++) {
            sum += logSoftmax(logits[t], all[t + 1]);
        }
        return sum;
    }

    private static double logSoftmax(double[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) {
            max = Math.max(max, l);
        }
        double z = 0;
        for (double l : logits) {
            z += Math.exp(l - max);
        }
        return logits[target] - max - Math.log(z);
    }

    @Test
    void slicedHeadOverLongSequencesEqualsFullLogits() {
        TinyFixture f = TinyFixture.llama();
        int[][] ids = LlamaModelReferenceTest.randomIds(f.config.vocabSize(), 2, LogProbs.HEAD_SLICE + 90, 4);
        try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
            NDArray idArray = m.create(ids);
            float[] sliced = LogProbs.tokenLogProbs(model, idArray, null, BlockMask.none()).toFloatArray();
            float[] full = LogProbs.fromLogits(model.logits(idArray, null, BlockMask.none()), idArray).toFloatArray();
            assertThat(sliced).hasSize(2 * (LogProbs.HEAD_SLICE + 89));
            assertThat(sliced).containsExactly(full, org.assertj.core.data.Offset.offset(1e-4f));
            float[] tail = LogProbs.tokenLogProbs(model, idArray, null, BlockMask.none(), 500).toFloatArray();
            int n = LogProbs.HEAD_SLICE + 89 - 500;
            assertThat(java.util.Arrays.copyOfRange(tail, n, 2 * n)).containsExactly(
                    java.util.Arrays.copyOfRange(full, LogProbs.HEAD_SLICE + 89 + 500, 2 * (LogProbs.HEAD_SLICE + 89)),
                    org.assertj.core.data.Offset.offset(1e-4f));
            assertThat(LogProbs.sequenceLogProbs(model, List.of(PROMPT_A), List.of(new int[0]), BlockMask.none(), m)
                    .toFloatArray()).containsExactly(0f);
        }
    }
}
