package dev.amalgam.fusion.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.DjlRuntime;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OptimizerPiecesTest {

    @Test
    void adamwMatchesANaiveScalarImplementation() {
        double lr = 0.01;
        double wd = 0.1;
        float[] p0 = {0.5f, -1.0f, 2.0f};
        float[][] grads = {{0.1f, -0.2f, 0.3f}, {-0.4f, 0.0f, 1.5f}, {0.05f, 0.05f, -0.5f}};
        // Naive PyTorch AdamW in doubles.
        double[] p = {0.5, -1.0, 2.0};
        double[] m = new double[3];
        double[] v = new double[3];
        for (int t = 1; t <= grads.length; t++) {
            for (int i = 0; i < 3; i++) {
                double g = grads[t - 1][i];
                p[i] *= 1 - lr * wd;
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                double mHat = m[i] / (1 - Math.pow(0.9, t));
                double vHat = v[i] / (1 - Math.pow(0.999, t));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + 1e-8);
            }
        }
        try (NDManager mgr = DjlRuntime.newManager(Device.cpu())) {
            AdamW opt = new AdamW(mgr, 0.9, 0.999, 1e-8, wd);
            NDArray param = mgr.create(p0);
            for (int t = 1; t <= grads.length; t++) {
                opt.update("w", param, mgr.create(grads[t - 1]), lr, t);
            }
            float[] got = param.toFloatArray();
            for (int i = 0; i < 3; i++) {
                assertThat((double) got[i]).isCloseTo(p[i], within(1e-6));
            }
        }
    }

    @Test
    void clippingUsesTheGlobalNormOfAllGradientsBothSigns() {
        try (NDManager mgr = DjlRuntime.newManager(Device.cpu())) {
            NDArray a = mgr.create(new float[] {3, -4});
            NDArray b = mgr.create(new float[] {-12});
            double norm = GradientClipping.globalNorm(List.of(a, b));
            assertThat(norm).isCloseTo(13.0, within(1e-6));
            double factor = GradientClipping.clip(List.of(a, b), norm, 1.0);
            assertThat(factor).isCloseTo(1 / 13.0, within(1e-6));
            assertThat(GradientClipping.globalNorm(List.of(a, b))).isCloseTo(1.0, within(1e-5));
            assertThat(a.toFloatArray()[1]).isNegative(); // directions kept: negative entries shrink too
            assertThat((double) b.toFloatArray()[0]).isCloseTo(-12.0 / 13, within(1e-5));
            assertThat(GradientClipping.clip(List.of(a, b), 1.0, 5.0)).isEqualTo(1.0);
        }
    }

    @Test
    void cosineScheduleWarmsUpThenDecaysToZero() {
        CosineSchedule s = CosineSchedule.withWarmupRatio(1e-3, 20, 0.1); // warmup ceil(2.0) = 2 steps
        assertThat(s.warmupSteps()).isEqualTo(2);
        assertThat(s.lr(0)).isZero();
        assertThat(s.lr(1)).isCloseTo(5e-4, within(1e-15));
        assertThat(s.lr(2)).isCloseTo(1e-3, within(1e-15));
        assertThat(s.lr(11)).isCloseTo(1e-3 * 0.5 * (1 + Math.cos(Math.PI * 9 / 18)), within(1e-15));
        assertThat(s.lr(20)).isCloseTo(0.0, within(1e-15));
    }

    @Test
    void batchPlanVisitsEveryExampleOncePerEpochInASeededOrder() {
        BatchPlan plan = new BatchPlan(10, 3, 2, 2, 7, StepAccounting.ALL_BATCHES); // 4 micro-batches -> 2 steps per epoch
        assertThat(plan.totalSteps()).isEqualTo(4);
        for (int epoch = 0; epoch < 2; epoch++) {
            Set<Integer> seen = new HashSet<>();
            int count = 0;
            for (long s = epoch * 2L; s < epoch * 2L + 2; s++) {
                for (int[] mb : plan.step(s)) {
                    for (int i : mb) {
                        seen.add(i);
                        count++;
                    }
                }
            }
            assertThat(count).isEqualTo(10);
            assertThat(seen).hasSize(10);
        }
        assertThat(plan.step(1)).hasSize(2);
        assertThat(plan.stepExamples(1)).isEqualTo(4); // micro-batches of 3 and 1
        assertThat(new BatchPlan(10, 3, 2, 2, 7, StepAccounting.ALL_BATCHES).step(3)).containsExactlyElementsOf(plan.step(3));
        assertThat(plan.step(0).get(0)).isNotEqualTo(plan.step(2).get(0)); // reshuffled per epoch
    }
}
