package dev.amalgam.merge.method;

import static dev.amalgam.merge.method.TestInputs.flat;
import static dev.amalgam.merge.method.TestInputs.w;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** multislerp and karcher: both land on the spherical midpoint of two orthogonal directions. */
class SphericalMeansTest {

    private final MergeMethod multislerp = MergeMethods.get("multislerp");
    private final MergeMethod karcher = MergeMethods.get("karcher");

    @Test
    void multislerpOfTwoOrthogonalVectorsIsTheMidpointAtTheMeanNorm() {
        float[] out = TestInputs.merge(multislerp, flat(multislerp, -1, Map.of(), List.of(w(1), w(1)),
                new float[]{2, 0}, new float[]{0, 4}));
        // direction (1,1)/sqrt2, norm (2 + 4) / 2 = 3
        assertThat(out[0]).isCloseTo(2.12132f, within(1e-4f));
        assertThat(out[1]).isCloseTo(2.12132f, within(1e-4f));
    }

    @Test
    void multislerpWithBaseWorksOnTaskVectorsAndOneModelIsIdentity() {
        float[] out = TestInputs.merge(multislerp, flat(multislerp, 0, Map.of(), List.of(Map.of(), w(1), w(1)),
                new float[]{1, 1}, new float[]{2, 1}, new float[]{1, 2}));
        assertThat(out[0]).isCloseTo(1.70711f, within(1e-4f));
        assertThat(out[1]).isCloseTo(1.70711f, within(1e-4f));
        float[] x = TestInputs.random(50, 3, 1);
        assertThat(TestInputs.merge(multislerp, flat(multislerp, -1, Map.of(), List.of(w(1)), x))).containsExactly(x);
    }

    @Test
    void karcherOfOrthogonalVectorsIsTheMidpoint() {
        float[] out = TestInputs.merge(karcher, flat(karcher, -1, Map.of(), List.of(Map.of(), Map.of()),
                new float[]{1, 0}, new float[]{0, 3}));
        // unit mean (1,1)/sqrt2 scaled by the mean norm 2
        assertThat(out[0]).isCloseTo(1.41421f, within(1e-4f));
        assertThat(out[1]).isCloseTo(1.41421f, within(1e-4f));
    }

    @Test
    void karcherOfThreeVectorsMinimisesTheGeodesicSpread() {
        // the Karcher mean m makes the weighted sum of log maps vanish: sum theta_j/sin theta_j (u_j - cos m) = 0
        float[][] xs = {{1, 0, 0}, {0, 1, 0}, {0.6f, 0, 0.8f}};
        float[] out = TestInputs.merge(karcher, flat(karcher, -1, Map.of("max_iter", 100.0, "tol", 1e-9),
                List.of(Map.of(), Map.of(), Map.of()), xs));
        double n = Math.sqrt(out[0] * out[0] + out[1] * out[1] + out[2] * out[2]);
        assertThat(n).isCloseTo(1.0, within(1e-4));
        double[] g = new double[3];
        for (float[] u : xs) {
            double c = (out[0] * u[0] + out[1] * u[1] + out[2] * u[2]) / n;
            double th = Math.acos(c);
            for (int i = 0; i < 3; i++) {
                g[i] += th / Math.sin(th) * (u[i] - c * out[i] / n);
            }
        }
        for (double gi : g) {
            assertThat(gi).isCloseTo(0.0, within(1e-4));
        }
    }
}
