package dev.amalgam.merge.method;

import static dev.amalgam.merge.method.TestInputs.flat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SlerpMergeTest {

    private final MergeMethod slerp = MergeMethods.get("slerp");

    private float[] run(double t, float[] base, float[] other) {
        return TestInputs.merge(slerp, flat(slerp, 0, Map.of("t", t), List.of(Map.of(), Map.of()), base, other));
    }

    @Test
    void tZeroGivesBaseAndTOneGivesTheOther() {
        float[] b = TestInputs.random(100, 1, 1);
        float[] o = TestInputs.random(100, 2, 1);
        float[] at0 = run(0, b, o);
        float[] at1 = run(1, b, o);
        for (int i = 0; i < 100; i++) {
            assertThat(at0[i]).isCloseTo(b[i], within(1e-6f));
            assertThat(at1[i]).isCloseTo(o[i], within(1e-5f));
        }
    }

    @Test
    void orthogonalVectorsAtHalfway() {
        // theta = pi/2: s0 = s1 = sin(pi/4) / sin(pi/2) = 0.70711, applied to the ORIGINAL vectors
        float[] out = run(0.5, new float[]{1, 0}, new float[]{0, 2});
        assertThat(out[0]).isCloseTo(0.70711f, within(1e-5f));
        assertThat(out[1]).isCloseTo(1.41421f, within(1e-5f));
    }

    @Test
    void nearlyColinearFallsBackToLerp() {
        float[] out = run(0.25, new float[]{1, 2, 3}, new float[]{2, 4, 6});
        assertThat(out).containsExactly(1.25f, 2.5f, 3.75f);
    }
}
