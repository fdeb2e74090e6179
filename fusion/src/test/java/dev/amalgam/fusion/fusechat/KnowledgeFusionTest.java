package dev.amalgam.fusion.fusechat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import dev.amalgam.fusion.fusechat.align.TopK;

import java.util.List;

import org.junit.jupiter.api.Test;

class KnowledgeFusionTest {

    /** softmax([2, 1, 0]) = [e^2, e^1, 1] / 11.107338 = [0.665241, 0.244728, 0.090031]; T = 2 halves the logits. */
    @Test
    void targetDistributionIsTheTemperatureSoftmaxOfTheTopKSortedById() {
        TopK k = new TopK(new int[] {5, 2, 9}, new float[] {2f, 1f, 0f});

        SparseDistribution t1 = SparseDistribution.softmax(k, 1.0);
        assertThat(t1.ids()).containsExactly(2, 5, 9);
        assertThat(t1.probs()).containsExactly(new double[] {0.244728471, 0.665240956, 0.090030573}, offset(1e-8));

        // softmax([1, 0.5, 0]) = [0.506480, 0.307196, 0.186324]
        SparseDistribution t2 = SparseDistribution.softmax(k, 2.0);
        assertThat(t2.probOf(5)).isEqualTo(0.506480391, offset(1e-8));
        assertThat(t2.probOf(2)).isEqualTo(0.307195886, offset(1e-8));
        assertThat(t2.probOf(9)).isEqualTo(0.186323723, offset(1e-8));
        assertThat(t2.probOf(4)).isZero();
        assertThat(t2.toDense(10)[5]).isEqualTo(0.506480391, offset(1e-8));

        assertThat(SparseDistribution.softmax(TopK.oneHot(3), 1.0)).isEqualTo(SparseDistribution.oneHot(3));
    }

    @Test
    void anEmptyAlignedPositionFallsBackToThePivotsOwnDistribution() {
        List<SparseDistribution> pivot = TargetDistributions.of(
                List.of(new TopK(new int[] {1, 2}, new float[] {0f, 0f}), TopK.oneHot(4)), 1.0);
        List<SparseDistribution> aligned = TargetDistributions.ofAligned(List.of(TopK.empty(), TopK.oneHot(7)),
                pivot, 1.0);

        assertThat(aligned.get(0)).isEqualTo(pivot.get(0));
        assertThat(aligned.get(1)).isEqualTo(SparseDistribution.oneHot(7));
    }

    @Test
    void minCeAtSequenceLevelTakesTheLowestCeCandidateEverywhereTheFirstOnTies() {
        FusionCandidate pivot = candidate("pivot", 1.2, 1, 1);
        FusionCandidate a = candidate("a", 0.8, 2, 2);
        FusionCandidate b = candidate("b", 0.8, 3, 3);

        List<SparseDistribution> fused = KnowledgeFusion.fuse(List.of(pivot, a, b), FusionFunction.MIN_CE,
                MetricLevel.SEQUENCE);

        assertThat(fused).containsExactly(SparseDistribution.oneHot(2), SparseDistribution.oneHot(2));
        assertThat(KnowledgeFusion.minCeIndex(new double[] {0.5, 0.2, 0.9})).isEqualTo(1);
    }

    @Test
    void minCeAtTokenLevelChoosesPerPosition() {
        FusionCandidate pivot = new FusionCandidate("pivot", List.of(SparseDistribution.oneHot(1),
                SparseDistribution.oneHot(1)), 1.0, new double[] {0.3, 2.0});
        FusionCandidate source = new FusionCandidate("source", List.of(SparseDistribution.oneHot(2),
                SparseDistribution.oneHot(2)), 0.1, new double[] {0.7, 0.4});

        List<SparseDistribution> fused = KnowledgeFusion.fuse(List.of(pivot, source), FusionFunction.MIN_CE,
                MetricLevel.TOKEN);

        assertThat(fused).containsExactly(SparseDistribution.oneHot(1), SparseDistribution.oneHot(2));
    }

    /**
     * CE 1.2 and 0.8 -> rewards exp(-CE) = 0.301194, 0.449329 -> softmax = [0.463034, 0.536966].
     * Pivot q = {1: 0.5, 3: 0.5}, source q = {3: 1}: fused = {1: 0.231517, 3: 0.231517 + 0.536966 = 0.768483}.
     */
    @Test
    void avgCeMixesCandidatesWithSoftmaxOfTheRewards() {
        FusionCandidate pivot = new FusionCandidate("pivot",
                List.of(new SparseDistribution(new int[] {1, 3}, new double[] {0.5, 0.5})), 1.2);
        FusionCandidate source = new FusionCandidate("source", List.of(SparseDistribution.oneHot(3)), 0.8);

        assertThat(KnowledgeFusion.avgCeWeights(new double[] {1.2, 0.8}))
                .containsExactly(new double[] {0.463033886, 0.536966114}, offset(1e-8));
        SparseDistribution fused = KnowledgeFusion.fuse(List.of(pivot, source), FusionFunction.AVG_CE,
                MetricLevel.SEQUENCE).get(0);
        assertThat(fused.ids()).containsExactly(1, 3);
        assertThat(fused.probs()).containsExactly(new double[] {0.231516943, 0.768483057}, offset(1e-8));
    }

    @Test
    void refusesNanMetricsMissingTokenMetricsAndLengthMismatches() {
        assertThatThrownBy(() -> candidate("src", Double.NaN, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("candidate src")
                .hasMessageContaining("NaN");
        assertThatThrownBy(() -> KnowledgeFusion.fuse(List.of(candidate("p", 1, 1)), FusionFunction.MIN_CE,
                MetricLevel.TOKEN)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("per-token");
        assertThatThrownBy(() -> KnowledgeFusion.fuse(List.of(candidate("p", 1, 1), candidate("s", 1, 1, 1)),
                FusionFunction.MIN_CE, MetricLevel.SEQUENCE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("candidate s has 2 positions");
    }

    private static FusionCandidate candidate(String name, double ce, int... oneHotIds) {
        List<SparseDistribution> d = new java.util.ArrayList<>();
        for (int id : oneHotIds) {
            d.add(SparseDistribution.oneHot(id));
        }
        return new FusionCandidate(name, d, ce);
    }
}
