package dev.amalgam.fusion.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.fusion.data.TokenizedPreference;
import dev.amalgam.fusion.loss.LossType;
import dev.amalgam.fusion.loss.PreferenceLosses.BaselineChosen;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.fusion.wrpo.PreferenceObjective;
import dev.amalgam.fusion.wrpo.ReferenceLogps;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two padded micro-batches of two records accumulate to the same update as one micro-batch of four. */
class GradientAccumulationTest {

    @TempDir
    Path dir;

    @Test
    void accumulatedMicroBatchesEqualOneLargeBatch() {
        Path modelDir = TinyData.llama(dir, 3);
        List<TokenizedPreference> records = TinyData.tokenizedPatterned(modelDir, 4, 1);
        ReferenceLogps ref;
        try (FullFineTune m = new FullFineTune(CheckpointLoader.load(modelDir, EngineOptions.cpu()))) {
            ref = ReferenceLogps.compute(m, records, 4);
        }
        float[] large = oneStep(modelDir, records, ref, List.of(new int[] {0, 1, 2, 3}));
        float[] accumulated = oneStep(modelDir, records, ref, List.of(new int[] {0, 1}, new int[] {2, 3}));
        float[] base;
        try (FullFineTune m = new FullFineTune(CheckpointLoader.load(modelDir, EngineOptions.cpu()))) {
            base = probe(m);
        }
        assertThat(large).isNotEqualTo(base);
        for (int i = 0; i < large.length; i++) {
            assertThat(accumulated[i]).isCloseTo(large[i], org.assertj.core.api.Assertions.within(2e-6f));
        }
    }

    private static float[] oneStep(Path modelDir, List<TokenizedPreference> records, ReferenceLogps ref,
            List<int[]> micro) {
        try (FullFineTune m = new FullFineTune(CheckpointLoader.load(modelDir, EngineOptions.cpu()));
                NDManager opt = m.base().manager().newSubManager()) {
            // alpha 0.5 and beta 1 with a grad-norm clip that binds, so clipping sees the accumulated gradient.
            Trainer t = new Trainer(m, new AdamW(opt, 0.9, 0.999, 1e-8, 0.01), new CosineSchedule(1e-2, 10, 0), 0.5,
                    LossScaler.none());
            PreferenceObjective o = new PreferenceObjective(records, ref, LossType.WRPO, 1.0, 0, 0,
                    BaselineChosen.TARGET, null);
            o.prepare(0.5, 4);
            StepStats s = t.step(0, micro, o);
            assertThat(s.applied()).isTrue();
            assertThat(s.gradNorm()).isGreaterThan(0.5);
            return probe(m);
        }
    }

    private static float[] probe(FullFineTune m) {
        return m.base().weights().namedParameters().get("model.layers.1.mlp.up_proj.weight").toFloatArray();
    }
}
