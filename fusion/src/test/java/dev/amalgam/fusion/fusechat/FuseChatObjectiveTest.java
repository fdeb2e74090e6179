package dev.amalgam.fusion.fusechat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class FuseChatObjectiveTest {

    private static final int X = FuseChatObjective.IGNORE_INDEX;
    private static final float LN2 = (float) Math.log(2);

    /**
     * T = 3, V = 3, labels [-100, 0, 2]: positions 0 (next token 0) and 1 (next token 2) are supervised, N = 2.
     * <ul>
     *   <li>z0 = [0, 0, 0]: p = 1/3 each; NLL(0) = ln 3; q0 = {0: .5, 1: .5}: CE = ln 3, KL = ln 3 - ln 2;</li>
     *   <li>z1 = [0, ln 2, 0]: p = [1/4, 1/2, 1/4]; NLL(2) = ln 4; q1 = one-hot(1): CE = KL = ln 2.</li>
     * </ul>
     * CLM = (ln 3 + ln 4) / 2 = 1.242453; CE term = (ln 3 + ln 2) / 2 = 0.895880; KL term = (ln 3 - ln 2 + ln 2) / 2
     * = 0.549306; total (lambda 0.9, CE) = 0.9 * 1.242453 + 0.1 * 0.895880 = 1.207796.
     * Gradient at t = 0: (1/2) [0.9 (p - e_0) + 0.1 (p - q0)] = [-0.308333, 0.141667, 0.166667]; at t = 2: 0.
     */
    @Test
    void lossAndGradientMatchTheHandWorkedExample() {
        float[][] z = {{0, 0, 0}, {0, LN2, 0}, {5, -1, 2}};
        int[] labels = {X, 0, 2};
        List<SparseDistribution> q = Arrays.asList(new SparseDistribution(new int[] {0, 1}, new double[] {0.5, 0.5}),
                SparseDistribution.oneHot(1), null);

        FuseChatObjective.Loss ce = FuseChatObjective.loss(z, labels, q, 0.9, FuseLossType.CE);
        assertThat(ce.tokens()).isEqualTo(2);
        assertThat(ce.clm()).isEqualTo(1.242453325, offset(1e-6));
        assertThat(ce.fuse()).isEqualTo(0.895879735, offset(1e-6));
        assertThat(ce.total()).isEqualTo(1.207795966, offset(1e-6));
        assertThat(FuseChatObjective.loss(z, labels, q, 0.9, FuseLossType.KL).fuse()).isEqualTo(0.549306144, offset(1e-6));

        float[][] g = FuseChatObjective.gradient(z, labels, q, 0.9);
        assertThat(g[0][0]).isEqualTo(-0.308333f, offset(1e-6f));
        assertThat(g[0][1]).isEqualTo(0.141667f, offset(1e-6f));
        assertThat(g[0][2]).isEqualTo(0.166667f, offset(1e-6f));
        assertThat(g[2]).containsOnly(0f);
    }

    @Test
    void lambdaOneIsPlainLanguageModellingAndZeroIsPureFusion() {
        float[][] z = {{1, 0, 0}, {0, 0, 0}};
        int[] labels = {X, 2};
        List<SparseDistribution> q = Arrays.asList(SparseDistribution.oneHot(1), null);
        // p(z0) = [e, 1, 1] / (e + 2): NLL(2) = ln(e + 2) = 1.551445; CE(one-hot 1) the same value.
        assertThat(FuseChatObjective.loss(z, labels, q, 1.0, FuseLossType.CE).total()).isEqualTo(1.551444714, offset(1e-6));
        assertThat(FuseChatObjective.loss(z, labels, q, 0.0, FuseLossType.KL).total()).isEqualTo(1.551444714, offset(1e-6));
    }

    /**
     * Central differences on a batch of two sequences with ignored labels, logits wider than the targets'
     * vocabulary (the last column has no token), CE and KL, two lambdas. Logits are multiples of 1/64 and the step
     * 1/128, so z +- h is exact in float and the difference quotient only carries its O(h^2) error.
     */
    @Test
    void analyticGradientMatchesCentralFiniteDifferences() {
        Random random = new Random(11);
        int b = 2;
        int t = 4;
        int v = 6;
        float[][][] z = new float[b][t][v];
        for (float[][] seq : z) {
            for (float[] row : seq) {
                for (int k = 0; k < v; k++) {
                    row[k] = (random.nextInt(257) - 128) / 64f;
                }
            }
        }
        int[][] labels = {{X, 3, X, 0}, {4, 1, 2, X}};
        List<List<SparseDistribution>> q = new ArrayList<>();
        for (int s = 0; s < b; s++) {
            List<SparseDistribution> row = new ArrayList<>();
            for (int p = 0; p < t; p++) {
                double a = 0.2 + 0.6 * random.nextDouble();
                row.add(new SparseDistribution(new int[] {p % 3, 4}, new double[] {a, 1 - a}));
            }
            q.add(row);
        }
        float h = 1f / 128;
        for (double lambda : new double[] {0.9, 0.3}) {
            for (FuseLossType type : FuseLossType.values()) {
                float[][][] g = FuseChatObjective.gradient(z, labels, q, lambda);
                for (int s = 0; s < b; s++) {
                    for (int p = 0; p < t; p++) {
                        for (int k = 0; k < v; k++) {
                            float saved = z[s][p][k];
                            z[s][p][k] = saved + h;
                            double up = FuseChatObjective.loss(z, labels, q, lambda, type).total();
                            z[s][p][k] = saved - h;
                            double down = FuseChatObjective.loss(z, labels, q, lambda, type).total();
                            z[s][p][k] = saved;
                            double numeric = (up - down) / (2 * h);
                            assertThat((double) g[s][p][k]).as("%s lambda %s at [%d][%d][%d]", type, lambda, s, p, k)
                                    .isEqualTo(numeric, offset(2e-5));
                        }
                    }
                }
            }
        }
    }

    @Test
    void aBatchWithoutSupervisedTokensHasZeroLossAndGradient() {
        float[][] z = {{1, 2}, {3, 4}};
        int[] labels = {0, X};
        List<SparseDistribution> q = Arrays.asList(null, null);
        FuseChatObjective.Loss loss = FuseChatObjective.loss(z, labels, q, 0.9, FuseLossType.CE);
        assertThat(loss).isEqualTo(new FuseChatObjective.Loss(0, 0, 0, 0));
        assertThat(FuseChatObjective.gradient(z, labels, q, 0.9)[0]).containsOnly(0f);
    }

    @Test
    void refusesBadLabelsMissingTargetsAndTargetsBeyondTheLogits() {
        float[][] z = {{1, 2}, {3, 4}};
        assertThatThrownBy(() -> FuseChatObjective.loss(z, new int[] {0, 2}, Arrays.asList(SparseDistribution.oneHot(0),
                null), 0.9, FuseLossType.CE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("position 1: label 2");
        assertThatThrownBy(() -> FuseChatObjective.loss(z, new int[] {0, 1}, Arrays.asList(null, null), 0.9,
                FuseLossType.CE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no target distribution");
        assertThatThrownBy(() -> FuseChatObjective.loss(z, new int[] {0, 1}, Arrays.asList(SparseDistribution.oneHot(5),
                null), 0.9, FuseLossType.CE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target id 5");
        assertThatThrownBy(() -> FuseChatObjective.loss(z, new int[] {0, 1}, Arrays.asList(SparseDistribution.oneHot(0),
                null), 1.5, FuseLossType.CE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lambda");
    }

    @Test
    void risingLambdaGoesLinearlyFromLambdaZeroToOne() {
        assertThat(LambdaSchedule.fixed(LambdaSchedule.DEFAULT_LAMBDA).lambda(1000)).isEqualTo(0.9);
        LambdaSchedule rising = LambdaSchedule.rising(0.9, 100);
        assertThat(rising.lambda(0)).isEqualTo(0.9);
        assertThat(rising.lambda(50)).isEqualTo(0.95, offset(1e-12));
        assertThat(rising.lambda(100)).isEqualTo(1.0);
        assertThat(rising.lambda(250)).isEqualTo(1.0);
        assertThatThrownBy(() -> LambdaSchedule.rising(1.2, 10)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void representationsKeepTheTopKWithinTheTokenizerAndTheMeanSupervisedCe() {
        // Column 4 is an embedding padding row beyond len(tokenizer) = 4: never in the top-k. Equal logits: lower id first.
        var top = Representations.topK(new float[] {1, 3, 3, 2, 9}, 3, 4);
        assertThat(top.ids()).containsExactly(1, 2, 3);
        assertThat(top.logits()).containsExactly(3f, 3f, 2f);

        // labels [-100, 0, 1]: CE at 0 of token 0 under softmax([0, 0]) = ln 2; at 1 of token 1 under [0, ln 3]:
        // p = [1/4, 3/4], CE = ln(4/3). metric_ce = (ln 2 + ln 4/3) / 2 = 0.490415.
        float[][] z = {{0, 0}, {0, (float) Math.log(3)}, {7, 7}};
        int[] labels = {X, 0, 1};
        assertThat(Representations.tokenCe(z, labels)).containsExactly(
                new double[] {Math.log(2), Math.log(4.0 / 3), 0}, offset(1e-6));
        assertThat(Representations.metricCe(z, labels)).isEqualTo(0.490414626, offset(1e-6));
        assertThat(Representations.metricCe(z, new int[] {0, X, X})).isNaN();
    }
}
