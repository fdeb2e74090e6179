package dev.amalgam.merge.method;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** task_arithmetic, ties, dare_*, breadcrumbs*, della*: one generalized method configured eight ways. */
class TaskArithmeticFamilyTest {

    private static MergeInputs inputs(MergeMethod m, Map<String, Object> global, List<Map<String, Object>> models,
                                      long[] shape, float[]... tensors) {
        return TestInputs.of(m, shape, 0, global, models, tensors);
    }

    private static Map<String, Object> p(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void taskArithmeticByHand() {
        MergeMethod ta = MergeMethods.get("task_arithmetic");
        float[] out = TestInputs.merge(ta, inputs(ta, p("lambda", 2.0), List.of(p(), p("weight", 0.5), p("weight", 1.0)),
                new long[]{3}, new float[]{1, 1, 1}, new float[]{2, 0, 1}, new float[]{1, 3, 1}));
        // d1 = (1,-1,0), d2 = (0,2,0); 0.5 d1 + d2 = (0.5, 1.5, 0); * lambda 2 -> (1, 3, 0)
        assertThat(out).containsExactly(2f, 4f, 1f);
    }

    @Test
    void tiesTrimsElectsSignsAndNormalizesByHand() {
        MergeMethod ties = MergeMethods.get("ties");
        float[] base = {0, 0, 0, 0, 10};
        float[] a = {3, -1, 2, -0.5f, 10};
        float[] b = {-5, 2, 1, 0.1f, 10};
        // density 0.4 of 5 -> k = 2: a keeps (3, 2), b keeps (-5, 2)
        // weights 2, 1: wd_a = (6,0,4,0,0), wd_b = (-5,2,0,0,0); sums (1,2,4,0,0) -> all majority +
        // pos0: a kept (6, w 2) -> 6/2 = 3 ; pos1: b (2, w 1) -> 2 ; pos2: a -> 4/2 = 2 ; pos3,4: nothing -> 0
        float[] out = TestInputs.merge(ties, inputs(ties, p(), List.of(p(), p("weight", 2.0, "density", 0.4),
                p("weight", 1.0, "density", 0.4)), new long[]{5}, base, a, b));
        assertThat(out).containsExactly(3f, 2f, 2f, 0f, 10f);
        // b heavier on pos0 flips the elected sign to minus
        float[] out2 = TestInputs.merge(ties, inputs(ties, p(), List.of(p(), p("weight", 1.0, "density", 0.4),
                p("weight", 1.0, "density", 0.4)), new long[]{5}, base, a, b));
        assertThat(out2[0]).isEqualTo(-5f);
    }

    @Test
    void densityOneTiesWithOneModelEqualsTaskArithmetic() {
        MergeMethod ties = MergeMethods.get("ties");
        MergeMethod ta = MergeMethods.get("task_arithmetic");
        float[] base = TestInputs.random(300, 1, 1);
        float[] x = TestInputs.random(300, 2, 1);
        List<Map<String, Object>> models = List.of(p(), p("weight", 1.0));
        float[] t = TestInputs.merge(ties, inputs(ties, p(), models, new long[]{300}, base, x));
        float[] r = TestInputs.merge(ta, inputs(ta, p(), models, new long[]{300}, base, x));
        for (int i = 0; i < 300; i++) {
            assertThat(t[i]).isCloseTo(r[i], within(1e-6f));
            assertThat(t[i]).isCloseTo(x[i], within(1e-5f));
        }
    }

    @Test
    void dareIsSeededDropsAboutOneMinusDensityAndKeepsTheL1Norm() {
        MergeMethod dare = MergeMethods.get("dare_linear");
        int n = 20_000;
        float[] base = TestInputs.random(n, 1, 1);
        float[] x = TestInputs.random(n, 2, 1);
        List<Map<String, Object>> models = List.of(p(), p("weight", 1.0, "density", 0.3));
        float[] out = TestInputs.merge(dare, inputs(dare, p(), models, new long[]{n}, base, x));
        float[] again = TestInputs.merge(dare, inputs(dare, p(), models, new long[]{n}, base, x));
        assertThat(again).isEqualTo(out); // linear-time array comparison
        int kept = 0;
        double l1Delta = 0;
        double l1Out = 0;
        Double scale = null;
        for (int i = 0; i < n; i++) {
            double d = x[i] - base[i];
            double o = out[i] - base[i];
            l1Delta += Math.abs(d);
            l1Out += Math.abs(o);
            if (Math.abs(o) > 1e-6) {
                kept++;
                double s = o / d;
                if (scale == null) {
                    scale = s;
                }
                assertThat(s).isCloseTo(scale, within(1e-3)); // one common rescale factor
            }
        }
        assertThat(kept / (double) n).isCloseTo(0.3, within(0.02));
        assertThat(l1Out).isCloseTo(l1Delta, within(l1Delta * 1e-4));
        assertThat(scale).isCloseTo(1 / 0.3, within(0.2));
    }

    @Test
    void dareTiesAppliesSignConsensus() {
        MergeMethod dt = MergeMethods.get("dare_ties");
        float[] base = {0, 0};
        float[] a = {1, -1};
        float[] b = {-3, -1};
        // density 1: no dropping; sum (-2, -2) -> majority minus; normalize off -> sum of agreeing deltas
        float[] out = TestInputs.merge(dt, inputs(dt, p(), List.of(p(), p("weight", 1.0), p("weight", 1.0)), new long[]{2},
                base, a, b));
        assertThat(out).containsExactly(-3f, -2f);
    }

    @Test
    void breadcrumbsDropsLargestGammaAndSmallestByHand() {
        MergeMethod bc = MergeMethods.get("breadcrumbs");
        float[] base = new float[10];
        float[] x = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10};
        // target = 5, n_top = int(0.2 * 10) = 2, n_bot = 3 -> keep magnitudes 4..8
        float[] out = TestInputs.merge(bc, inputs(bc, p(), List.of(p(), p("weight", 1.0, "density", 0.5, "gamma", 0.2)),
                new long[]{10}, base, x));
        assertThat(out).containsExactly(0, 0, 0, -4, 5, -6, 7, -8, 0, 0);
        // gamma 0 keeps the top half instead of zeroing the tensor (mergekit's [n_bot:-0] defect)
        float[] out0 = TestInputs.merge(bc, inputs(bc, p(), List.of(p(), p("weight", 1.0, "density", 0.5, "gamma", 0.0)),
                new long[]{10}, base, x));
        assertThat(out0).containsExactly(0, 0, 0, 0, 0, -6, 7, -8, 9, -10);
    }

    @Test
    void breadcrumbsTiesAddsConsensus() {
        MergeMethod bt = MergeMethods.get("breadcrumbs_ties");
        float[] base = new float[4];
        float[] a = {1, 2, 3, 4};
        float[] b = {-1, -2, -3, -4};
        float[] c = {1, 2, 3, 4};
        // density 1: nothing dropped; majority +, b is masked out; normalize off: sum of a and c
        float[] out = TestInputs.merge(bt, inputs(bt, p(), List.of(p(), p("weight", 1.0), p("weight", 1.0), p("weight", 1.0)),
                new long[]{4}, base, a, b, c));
        assertThat(out).containsExactly(2, 4, 6, 8);
    }

    @Test
    void dellaKeepsLargeMagnitudesMoreOftenPerRow() {
        MergeMethod della = MergeMethods.get("della_linear");
        int rows = 200;
        int cols = 100;
        float[] base = new float[rows * cols];
        float[] x = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                x[r * cols + c] = (c + 1) * (c % 2 == 0 ? 1 : -1); // magnitude rank = column
            }
        }
        float[] out = TestInputs.merge(della, inputs(della, p("rescale", false),
                List.of(p(), p("weight", 1.0, "density", 0.5, "epsilon", 0.4)), new long[]{rows, cols}, base, x));
        int smallKept = 0;
        int largeKept = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < 10; c++) {
                smallKept += out[r * cols + c] != 0 ? 1 : 0;
                largeKept += out[r * cols + cols - 1 - c] != 0 ? 1 : 0;
            }
        }
        // keep probability rises linearly from 0.1 (smallest) to 0.9 (largest): first decile ~0.136, last ~0.864
        assertThat(smallKept / 2000.0).isCloseTo(0.136, within(0.04));
        assertThat(largeKept / 2000.0).isCloseTo(0.864, within(0.04));
    }

    @Test
    void dellaRejectsEpsilonThatLeavesTheUnitInterval() {
        MergeMethod della = MergeMethods.get("della");
        List<String> problems = della.checkParams(TensorParams.EMPTY,
                List.of(TestInputs.withDefaults(della.modelParameters(), p("weight", 1.0, "density", 0.9))));
        assertThat(problems).singleElement().asString().contains("epsilon");
    }
}
