package dev.amalgam.fusion.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Non-finite gradients skip the update (and shrink the FP16 loss scale); the scale grows after good steps. */
class TrainerSafetyTest {

    @TempDir
    Path dir;

    @Test
    void lossScalerHalvesOnOverflowAndGrowsAfterGoodSteps() {
        LossScaler s = LossScaler.dynamic();
        assertThat(s.scale()).isEqualTo(65536.0);
        assertThat(s.update(false)).isFalse();
        assertThat(s.scale()).isEqualTo(32768.0);
        for (int i = 0; i < 1999; i++) {
            assertThat(s.update(true)).isTrue();
        }
        assertThat(s.scale()).isEqualTo(32768.0);
        s.update(true);
        assertThat(s.scale()).isEqualTo(65536.0);
        LossScaler none = LossScaler.none();
        assertThat(none.update(false)).isFalse();
        assertThat(none.scale()).isEqualTo(1.0);
    }

    @Test
    void aStepWithNonFiniteGradientsLeavesTheWeightsAlone() {
        Path modelDir = TinyData.llama(dir, 2);
        try (FullFineTune m = new FullFineTune(CheckpointLoader.load(modelDir, EngineOptions.cpu()));
                NDManager opt = m.base().manager().newSubManager()) {
            Trainer t = new Trainer(m, new AdamW(opt, 0.9, 0.999, 1e-8, 0), new CosineSchedule(1e-2, 10, 0), 1.0,
                    LossScaler.none());
            float[] before = m.base().weights().namedParameters().get("model.norm.weight").toFloatArray();
            // The logits' mean times infinity: every gradient becomes NaN or infinite.
            StepStats bad = t.step(0, List.<long[][]>of(new long[][] {{1, 2, 3}}), (model, ids, scope) -> model
                    .logits(scope.create(ids), null, BlockMask.none()).mean().mul(Float.POSITIVE_INFINITY));
            assertThat(bad.applied()).isFalse();
            assertThat(t.appliedUpdates()).isZero();
            assertThat(m.base().weights().namedParameters().get("model.norm.weight").toFloatArray())
                    .containsExactly(before);
            // The next, finite step applies and changes the weights.
            StepStats good = t.step(1, List.<long[][]>of(new long[][] {{1, 2, 3}}), (model, ids, scope) -> model
                    .logits(scope.create(ids), null, BlockMask.none()).square().mean());
            assertThat(good.applied()).isTrue();
            assertThat(Double.isFinite(good.gradNorm())).isTrue();
            assertThat(m.base().weights().namedParameters().get("model.norm.weight").toFloatArray())
                    .isNotEqualTo(before);
        }
    }
}
