package dev.amalgam.merge.method;

import static dev.amalgam.merge.method.TestInputs.w;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NuSlerpMergeTest {

    private final MergeMethod nuslerp = MergeMethods.get("nuslerp");

    /** Naive slerp of two double vectors (colinear -> lerp), written independently of the implementation. */
    private static double[] refSlerp(double t, double[] a, double[] b) {
        double na = 0;
        double nb = 0;
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            na += a[i] * a[i];
            nb += b[i] * b[i];
            d += a[i] * b[i];
        }
        double theta = Math.acos(Math.max(-1, Math.min(1, d / Math.sqrt(na) / Math.sqrt(nb))));
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.sin(theta) < 1e-8 ? (1 - t) * a[i] + t * b[i]
                    : (Math.sin((1 - t) * theta) * a[i] + Math.sin(t * theta) * b[i]) / Math.sin(theta);
        }
        return r;
    }

    @Test
    void perRowWhenNotFlattened() {
        float[] v0 = {1, 0, 1, 0};
        float[] v1 = {0, 1, 2, 0};
        float[] out = TestInputs.merge(nuslerp, TestInputs.of(nuslerp, new long[]{2, 2}, -1, Map.of("nuslerp_flatten", false),
                List.of(w(1), w(1)), v0, v1));
        // row 0 orthogonal: 0.70711 each; row 1 colinear: lerp(0.5) = 1.5
        assertThat(out[0]).isCloseTo(0.70711f, within(1e-5f));
        assertThat(out[1]).isCloseTo(0.70711f, within(1e-5f));
        assertThat(out[2]).isCloseTo(1.5f, within(1e-6f));
        assertThat(out[3]).isCloseTo(0f, within(1e-6f));
    }

    @Test
    void rowWiseSlerpsColumnsAndWeightsSetT() {
        float[] v0 = {1, 0.5f, 1, 0.2f};
        float[] v1 = {0, 1, 2, 0.3f};
        // t = w2 / (w1 + w2) = 3 / 4
        float[] out = TestInputs.merge(nuslerp, TestInputs.of(nuslerp, new long[]{2, 2}, -1,
                Map.of("nuslerp_flatten", false, "nuslerp_row_wise", true), List.of(w(1), w(3)), v0, v1));
        double[] c0 = refSlerp(0.75, new double[]{1, 1}, new double[]{0, 2});
        double[] c1 = refSlerp(0.75, new double[]{0.5, 0.2}, new double[]{1, 0.3});
        assertThat(out[0]).isCloseTo((float) c0[0], within(1e-5f));
        assertThat(out[2]).isCloseTo((float) c0[1], within(1e-5f));
        assertThat(out[1]).isCloseTo((float) c1[0], within(1e-5f));
        assertThat(out[3]).isCloseTo((float) c1[1], within(1e-5f));
    }

    @Test
    void withBaseSlerpsTaskVectors() {
        float[] base = {1, 1, 1};
        float[] a = {2, 1, 1};
        float[] b = {1, 3, 1};
        float[] out = TestInputs.merge(nuslerp, TestInputs.of(nuslerp, new long[]{3}, 0, Map.of(),
                List.of(Map.of(), w(1), w(1)), base, a, b));
        double[] ref = refSlerp(0.5, new double[]{1, 0, 0}, new double[]{0, 2, 0});
        for (int i = 0; i < 3; i++) {
            assertThat(out[i]).isCloseTo((float) (1 + ref[i]), within(1e-5f));
        }
    }
}
