package dev.amalgam.fusion.fusechat.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.fusion.fusechat.FusionFunction;
import dev.amalgam.fusion.fusechat.MetricLevel;
import dev.amalgam.fusion.fusechat.SparseDistribution;
import dev.amalgam.fusion.fusechat.align.TopK;
import dev.amalgam.fusion.fusechat.repr.SampleRepresentation;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One sample's fused targets worked by hand: pivot ids [5, 6, 7], labels [-100, 6, 7], metric_ce 1.0 (pivot) and
 * 2.0 (source). The pivot's top-2 give q0 = {1: 0.25, 6: 0.75} (logits ln 3, 0) and q1 = {2: 0.5, 7: 0.5}; the
 * aligned source gives {3: 0.5, 6: 0.5} and the one-hot {7: 1}.
 */
class FuseChatDataTest {

    static final int X = -100;

    static SampleRepresentation pivot() {
        float ln3 = (float) Math.log(3);
        return new SampleRepresentation("s", new int[] {5, 6, 7}, new int[] {X, 6, 7}, 1.0, 2,
                new int[] {6, 1, 7, 2, 1, 2}, new float[] {ln3, 0, 0, 0, 0, 0});
    }

    static SampleRepresentation source() {
        // the source's own rows are not read: the aligned rows below stand for them
        return new SampleRepresentation("s", new int[] {9}, new int[] {X}, 2.0, 1, new int[] {9}, new float[] {0});
    }

    static final List<TopK> ALIGNED = List.of(new TopK(new int[] {3, 6}, new float[] {0, 0}), TopK.oneHot(7),
            TopK.oneHot(1));

    static FuseChatExample example(FusionFunction f, MetricLevel level, boolean includePivot, int maxLength) {
        return FuseChatData.example(pivot(), source(), ALIGNED,
                new FuseChatData.Settings(f, level, 1.0, includePivot, "ms", maxLength));
    }

    static void assertDistribution(SparseDistribution q, int[] ids, double[] probs) {
        assertThat(q.ids()).containsExactly(ids);
        for (int k = 0; k < probs.length; k++) {
            // ln 3 is stored as a float32 logit: 1e-7, not double precision
            assertThat(q.prob(k)).as("id " + ids[k]).isCloseTo(probs[k], within(1e-7));
        }
    }

    @Test
    void sequenceMinCeTakesThePivotEverywhereItsMetricIsLower() {
        FuseChatExample e = example(FusionFunction.MIN_CE, MetricLevel.SEQUENCE, true, 2048);
        assertDistribution(e.targets().get(0), new int[] {1, 6}, new double[] {0.25, 0.75});
        assertDistribution(e.targets().get(1), new int[] {2, 7}, new double[] {0.5, 0.5});
        assertThat(e.targets().get(2)).as("the last position predicts nothing").isNull();
    }

    @Test
    void tokenMinCeComparesMinusLogQOfTheGoldTokenAtEachPosition() {
        // position 0: pivot -ln 0.75 = 0.288 < source -ln 0.5 = 0.693; position 1: pivot -ln 0.5 > source -ln 1 = 0
        FuseChatExample e = example(FusionFunction.MIN_CE, MetricLevel.TOKEN, true, 2048);
        assertDistribution(e.targets().get(0), new int[] {1, 6}, new double[] {0.25, 0.75});
        assertDistribution(e.targets().get(1), new int[] {7}, new double[] {1.0});
    }

    @Test
    void sequenceAvgCeMixesWithTheSoftmaxOfTheRewards() {
        double rp = Math.exp(-1.0);
        double rs = Math.exp(-2.0);
        double wp = Math.exp(rp) / (Math.exp(rp) + Math.exp(rs)); // 0.5579
        double ws = 1 - wp;
        FuseChatExample e = example(FusionFunction.AVG_CE, MetricLevel.SEQUENCE, true, 2048);
        assertThat(wp).isCloseTo(0.5579, within(1e-4));
        assertDistribution(e.targets().get(0), new int[] {1, 3, 6},
                new double[] {0.25 * wp, 0.5 * ws, 0.75 * wp + 0.5 * ws});
        assertDistribution(e.targets().get(1), new int[] {2, 7}, new double[] {0.5 * wp, 0.5 * wp + ws});
    }

    @Test
    void withoutThePivotTheTargetsAreTheAlignedSources() {
        FuseChatExample e = example(FusionFunction.MIN_CE, MetricLevel.SEQUENCE, false, 2048);
        assertDistribution(e.targets().get(0), new int[] {3, 6}, new double[] {0.5, 0.5});
        assertDistribution(e.targets().get(1), new int[] {7}, new double[] {1.0});
    }

    @Test
    void maxLengthKeepsTheStartAndASampleWithoutALearnedTokenIsDropped() {
        FuseChatExample e = example(FusionFunction.MIN_CE, MetricLevel.SEQUENCE, true, 2);
        assertThat(e.inputIds()).containsExactly(5, 6);
        assertThat(e.labels()).containsExactly(X, 6);
        assertThat(e.supervisedPositions()).isEqualTo(1);
        assertThat(e.targets().get(1)).isNull();
        SampleRepresentation unlearned = new SampleRepresentation("u", new int[] {5, 6}, new int[] {X, X}, 1.0, 1,
                new int[] {6, 1}, new float[] {0, 0});
        assertThat(FuseChatData.example(unlearned, source(), ALIGNED.subList(0, 2),
                new FuseChatData.Settings(FusionFunction.MIN_CE, MetricLevel.SEQUENCE, 1.0, true, "ms", 2048)))
                .isNull();
    }
}
