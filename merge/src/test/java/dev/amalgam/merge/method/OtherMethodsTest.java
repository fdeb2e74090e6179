package dev.amalgam.merge.method;

import static dev.amalgam.merge.method.TestInputs.flat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** model_stock, sce, nearswap, arcee_fusion, passthrough, varm, ram, ramplus_tl and the registry. */
class OtherMethodsTest {

    @Test
    void modelStockByHand() {
        MergeMethod ms = MergeMethods.get("model_stock");
        // offsets (1,0) and (1,1): cos = 1/sqrt2; t = 2c / (1 + c) = 0.828427; avg = (1, 0.5)
        float[] out = TestInputs.merge(ms, flat(ms, 0, Map.of(), List.of(Map.of(), Map.of(), Map.of()),
                new float[]{0, 0}, new float[]{1, 0}, new float[]{1, 1}));
        assertThat(out[0]).isCloseTo(0.828427f, within(1e-5f));
        assertThat(out[1]).isCloseTo(0.414214f, within(1e-5f));
        // orthogonal offsets: cos 0 -> t 0 -> the base
        float[] orth = TestInputs.merge(ms, flat(ms, 0, Map.of(), List.of(Map.of(), Map.of(), Map.of()),
                new float[]{5, 5}, new float[]{6, 5}, new float[]{5, 6}));
        assertThat(orth).containsExactly(5f, 5f);
    }

    @Test
    void sceByHand() {
        MergeMethod sce = MergeMethods.get("sce");
        float[] base = new float[4];
        float[] a = {1, 2, -1, 0};
        float[] b = {3, -2, 1, 0};
        List<Map<String, Object>> none = List.of(Map.of(), Map.of(), Map.of());
        // weights mean(d^2): 1.5 and 3.5 -> 0.3, 0.7; majority sign + everywhere (sums 4, 0, 0, 0)
        float[] out = TestInputs.merge(sce, flat(sce, 0, Map.of(), none, base, a, b));
        assertThat(out[0]).isCloseTo(2.4f, within(1e-6f));
        assertThat(out[1]).isCloseTo(2f, within(1e-6f));
        assertThat(out[2]).isCloseTo(1f, within(1e-6f));
        assertThat(out[3]).isEqualTo(0f);
        // select_topk 0.5: variances (1, 4, 1, 0), nnz 3 -> keep int(1.5) = 1 position (index 1)
        float[] sel = TestInputs.merge(sce, flat(sce, 0, Map.of("select_topk", 0.5), none, base, a, b));
        assertThat(sel).containsExactly(0f, 2f, 0f, 0f);
    }

    @Test
    void sceFallsBackToEqualWeightsWhenTheSummedMeanSquaresAreBelowOneMillionth() {
        MergeMethod sce = MergeMethods.get("sce");
        List<Map<String, Object>> none = List.of(Map.of(), Map.of(), Map.of());
        // one element: mean(d^2) = 1e-8 and 9e-8, sum 1e-7 < 1e-6 -> weights 1/2, 1/2 (proportional would be 0.1,
        // 0.9 and give 2.8e-4): (1e-4 + 3e-4) / 2 = 2e-4
        float[] small = TestInputs.merge(sce, flat(sce, 0, Map.of(), none,
                new float[]{0}, new float[]{1e-4f}, new float[]{3e-4f}));
        assertThat(small[0]).isCloseTo(2e-4f, within(1e-9f));
        // ten times the deltas: mean(d^2) = 1e-6 and 9e-6, sum 1e-5 >= 1e-6 -> weights 0.1, 0.9:
        // 0.1 * 1e-3 + 0.9 * 3e-3 = 2.8e-3
        float[] large = TestInputs.merge(sce, flat(sce, 0, Map.of(), none,
                new float[]{0}, new float[]{1e-3f}, new float[]{3e-3f}));
        assertThat(large[0]).isCloseTo(2.8e-3f, within(1e-8f));
    }

    @Test
    void nearswapByHand() {
        MergeMethod ns = MergeMethods.get("nearswap");
        float[] out = TestInputs.merge(ns, flat(ns, 0, Map.of("t", 0.1), List.of(Map.of(), Map.of()),
                new float[]{0, 0, 0}, new float[]{0.05f, 0.5f, 0}));
        // weights: 0.1/0.05 -> clamp 1 ; 0.1/0.5 = 0.2 ; equal -> 1
        assertThat(out[0]).isCloseTo(0.05f, within(1e-7f));
        assertThat(out[1]).isCloseTo(0.1f, within(1e-7f));
        assertThat(out[2]).isEqualTo(0f);
    }

    @Test
    void nearswapAtTZeroOrBelowGivesTheBaseAndClampsTheDistanceAtOneMillionth() {
        MergeMethod ns = MergeMethods.get("nearswap");
        float[] base = {0, 1, -2};
        float[] x = {0.5f, 1, 3};
        for (double t : new double[]{0, -0.5}) {
            float[] out = TestInputs.merge(ns, flat(ns, 0, Map.of("t", t), List.of(Map.of(), Map.of()), base, x));
            assertThat(out).as("t = %s", t).containsExactly(0f, 1f, -2f);
        }
        // |b - x| = 1e-7 counts as 1e-6 (mergekit's clamp): weight 1e-8 / 1e-6 = 0.01, result 0.01 * 1e-7 = 1e-9
        float[] near = TestInputs.merge(ns, flat(ns, 0, Map.of("t", 1e-8), List.of(Map.of(), Map.of()),
                new float[]{0}, new float[]{1e-7f}));
        assertThat(near[0]).isCloseTo(1e-9f, within(1e-12f));
    }

    @Test
    void arceeFusionMatchesNaiveReference() {
        MergeMethod af = MergeMethods.get("arcee_fusion");
        int rows = 16;
        int cols = 32;
        float[] base = TestInputs.random(rows * cols, 1, 1);
        float[] x = base.clone();
        float[] noise = TestInputs.random(rows * cols, 2, 0.5);
        for (int i = 0; i < x.length; i += 3) {
            x[i] += noise[i];
        }
        float[] out = TestInputs.merge(af, TestInputs.of(af, new long[]{rows, cols}, 0, Map.of(), List.of(Map.of(), Map.of()),
                base, x));
        // reference: importance = |x-b| * KL(softmax(x) || softmax(b)) per row; threshold = med + 1.5 IQR
        double[] imp = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double zx = 0;
            double zb = 0;
            for (int c = 0; c < cols; c++) {
                zx += Math.exp(x[r * cols + c]);
                zb += Math.exp(base[r * cols + c]);
            }
            double kl = 0;
            for (int c = 0; c < cols; c++) {
                double p = Math.exp(x[r * cols + c]) / zx + 1e-8;
                double q = Math.exp(base[r * cols + c]) / zb + 1e-8;
                kl += p * Math.log(p / q);
            }
            for (int c = 0; c < cols; c++) {
                imp[r * cols + c] = Math.abs(x[r * cols + c] - base[r * cols + c]) * kl;
            }
        }
        double[] sorted = imp.clone();
        Arrays.sort(sorted);
        int last = sorted.length - 1;
        double thr = sorted[(int) (0.5 * last)] + 1.5 * (sorted[(int) (0.75 * last)] - sorted[(int) (0.25 * last)]);
        int taken = 0;
        for (int i = 0; i < imp.length; i++) {
            if (Math.abs(imp[i] - thr) < 1e-6 * Math.max(1, thr)) {
                continue; // too close to the threshold to compare float against double
            }
            assertThat(out[i]).isEqualTo(imp[i] >= thr ? x[i] : base[i]);
            taken += imp[i] >= thr && x[i] != base[i] ? 1 : 0;
        }
        assertThat(taken).isPositive();
    }

    @Test
    void passthroughCopiesAndScales() {
        MergeMethod pt = MergeMethods.get("passthrough");
        assertThat(TestInputs.merge(pt, flat(pt, -1, Map.of(), List.of(Map.of()), new float[]{1, -2}))).containsExactly(1f, -2f);
        assertThat(TestInputs.merge(pt, flat(pt, -1, Map.of(), List.of(Map.of("scale", 0.5)), new float[]{1, -2})))
                .containsExactly(0.5f, -1f);
    }

    @Test
    void varmWeightsByVariationRatio() {
        MergeMethod varm = MergeMethods.get("varm");
        List<Map<String, Object>> none = List.of(Map.of(), Map.of(), Map.of());
        // mean(d^2): (1+1)/2 = 1 and (4+0)/2 = 2 -> W = 1/3, 2/3 -> (1/3 + 4/3, 1/3)
        float[] out = TestInputs.merge(varm, flat(varm, 0, Map.of(), none, new float[]{0, 0}, new float[]{1, 1},
                new float[]{2, 0}));
        assertThat(out[0]).isCloseTo(5 / 3f, within(1e-6f));
        assertThat(out[1]).isCloseTo(1 / 3f, within(1e-6f));
        // all deltas zero -> equal weights -> the pivot again
        float[] same = TestInputs.merge(varm, flat(varm, 0, Map.of(), none, new float[]{3, 4}, new float[]{3, 4},
                new float[]{3, 4}));
        assertThat(same).containsExactly(3f, 4f);
    }

    /** Base 1; deltas a = (1, 2, 0, 1e-6, 5, 0), b = (3, 0, 0, -2, 1, 4); 1e-6 is below epsilon (1e-5). */
    private static float[] ram(String method, Map<String, Object> params) {
        MergeMethod m = MergeMethods.get(method);
        float[] base = {1, 1, 1, 1, 1, 1};
        float[] a = {2, 3, 1, 1.000001f, 6, 1};
        float[] b = {4, 1, 1, -1, 2, 5};
        return TestInputs.merge(m, flat(m, 0, params, List.of(Map.of(), Map.of(), Map.of()), base, a, b));
    }

    @Test
    void ramKeepsUniqueDeltasAndAveragesOverlappingOnesByHand() {
        // contributors per element: 2, 1 (a), 0, 1 (b: a's 1e-6 does not count), 2, 1 (b)
        assertThat(ram("ram", Map.of())).containsExactly(1 + 2f, 1 + 2f, 1f, 1 - 2f, 1 + 3f, 1 + 4f);
    }

    @Test
    void ramplusScalesEachModelsUniqueDeltasByItsSharedToUniqueRatio() {
        // a: shared 2 (elements 0, 4), unique 1 -> rho 2; b: shared 2, unique 2 (elements 3, 5) -> rho 1;
        // r 0.5, alpha 5: lambda_a = 1 + 0.5 * 2 = 2, lambda_b = 1.5; overlapping elements are plain means
        assertThat(ram("ramplus_tl", Map.of("r", 0.5, "alpha", 5.0)))
                .containsExactly(1 + 2f, 1 + 4f, 1f, 1 - 3f, 1 + 3f, 1 + 6f);
        // defaults r 0.1, alpha 0.2: both rhos clamp to 0.2, lambda 1.02
        float[] d = ram("ramplus_tl", Map.of());
        assertThat(d[1]).isCloseTo(1 + 2 * 1.02f, within(1e-6f));
        assertThat(d[3]).isCloseTo(1 - 2 * 1.02f, within(1e-6f));
        assertThat(d[0]).isEqualTo(3f);
        // epsilon 2.5: only the deltas 3 (b, element 0), 5 (a, element 4) and 4 (b, element 5) count, each alone
        assertThat(ram("ram", Map.of("epsilon", 2.5))).containsExactly(4f, 1f, 1f, 1f, 6f, 5f);
    }

    @Test
    void registryKnowsEveryMethodAndListsThemOnUnknownName() {
        assertThat(MergeMethods.names()).containsExactlyInAnyOrder("linear", "slerp", "nuslerp", "multislerp",
                "karcher", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties",
                "della", "della_linear", "model_stock", "sce", "nearswap", "arcee_fusion", "passthrough", "varm", "ram", "ramplus_tl");
        assertThatThrownBy(() -> MergeMethods.get("frankenmerge")).hasMessageContaining("frankenmerge")
                .hasMessageContaining("ties, varm");
    }
}
