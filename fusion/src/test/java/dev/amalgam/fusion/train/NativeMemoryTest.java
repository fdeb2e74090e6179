package dev.amalgam.fusion.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.data.TokenizedPreference;
import dev.amalgam.fusion.loss.LossType;
import dev.amalgam.fusion.loss.PreferenceLosses.BaselineChosen;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.fusion.wrpo.PreferenceEvaluation;
import dev.amalgam.fusion.wrpo.PreferenceMetrics;
import dev.amalgam.fusion.wrpo.PreferenceObjective;
import dev.amalgam.fusion.wrpo.ReferenceLogps;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training steps, evaluation and reference passes leave no native arrays behind (long jobs would run out). */
class NativeMemoryTest {

    @TempDir
    Path dir;

    @Test
    void stepsDoNotAccumulateArrays() {
        Path modelDir = TinyData.llama(dir, 6);
        List<TokenizedPreference> records = TinyData.tokenizedPatterned(modelDir, 4, 3);
        check(modelDir, records, FullFineTune::new);
        check(modelDir, records, m -> new LoraModel(m, new LoraSettings(2, 4, List.of("q_proj", "down_proj")), 1));
    }

    private static void check(Path modelDir, List<TokenizedPreference> records,
            Function<LlamaModel, TrainableModel> wrap) {
        LlamaModel loaded = CheckpointLoader.load(modelDir, EngineOptions.cpu());
        NDManager root = loaded.manager();
        try (TrainableModel m = wrap.apply(loaded); NDManager opt = m.base().manager().newSubManager()) {
            Trainer t = new Trainer(m, new AdamW(opt, 0.9, 0.999, 1e-8, 0), new CosineSchedule(1e-3, 10, 0), 1.0,
                    LossScaler.none());
            PreferenceMetrics metrics = new PreferenceMetrics();
            int[] counts = new int[6];
            for (int step = 0; step < 6; step++) {
                ReferenceLogps ref = ReferenceLogps.compute(m, records, 2);
                PreferenceObjective o = new PreferenceObjective(records, ref, LossType.WRPO, 0.1, 0, 0,
                        BaselineChosen.TARGET, metrics);
                o.prepare(0.1, 4);
                t.step(step, List.of(new int[] {0, 1}, new int[] {2, 3}), o);
                PreferenceEvaluation.evaluate(m, records, ref, LossType.WRPO, 0.1, 0.1, 0, 0, BaselineChosen.TARGET, 2);
                counts[step] = root.getManagedArrays().size();
            }
            // After the first step (AdamW moments created), the count stays put.
            assertThat(counts[5]).as("arrays after steps: %s", java.util.Arrays.toString(counts)).isEqualTo(counts[1]);
        }
    }
}
