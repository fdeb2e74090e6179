package dev.amalgam.fusion.wrpo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.amalgam.fusion.data.TokenizedPreference;
import dev.amalgam.fusion.loss.LossType;
import dev.amalgam.fusion.loss.PreferenceLosses.BaselineChosen;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.fusion.train.FullFineTune;
import dev.amalgam.fusion.train.TrainableParameter;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelengine.EngineOptions;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The analytic gradient of the preference losses (autograd through the engine's forward) against central
 * differences: WRPO, and the two-chosen DPO with label smoothing.
 */
class PreferenceGradientTest {

    @TempDir
    Path dir;

    @Test
    void wrpoGradientMatchesFiniteDifferences() {
        checkAgainstFiniteDifferences(LossType.WRPO, 0);
    }

    @Test
    void labelSmoothedTwoChosenDpoGradientMatchesFiniteDifferences() {
        checkAgainstFiniteDifferences(LossType.DPO_MULTI, 0.2);
    }

    private void checkAgainstFiniteDifferences(LossType loss, double labelSmoothing) {
        Path modelDir = TinyData.llama(dir, 5);
        List<TokenizedPreference> records = TinyData.tokenizedPatterned(modelDir, 2, 9);
        // Reference log-probs away from the policy's, so D(y) != 0 and the sigmoid is off its midpoint.
        ReferenceLogps ref = new ReferenceLogps(new float[][] {{-40, -38, -30}, {-35, -41, -33}}, 0);
        try (FullFineTune model = new FullFineTune(CheckpointLoader.load(modelDir, EngineOptions.cpu()))) {
            PreferenceObjective objective = new PreferenceObjective(records, ref, loss, 0.05, 0, labelSmoothing,
                    BaselineChosen.TARGET, null);
            objective.prepare(0.3, 2);
            int[] both = {0, 1};
            try (NDManager scope = model.base().manager().newSubManager();
                    GradientCollector gc = DjlRuntime.engine().newGradientCollector()) {
                gc.backward(objective.loss(model.base(), both, scope));
            }
            for (String probe : List.of("model.layers.0.mlp.down_proj.weight", "model.layers.1.self_attn.q_proj.weight",
                    "model.embed_tokens.weight", "model.norm.weight")) {
                TrainableParameter p = model.parameters().stream().filter(q -> q.name().equals(probe)).findFirst()
                        .orElseThrow();
                float[] grad = p.value().getGradient().toFloatArray();
                int best = 0;
                for (int i = 1; i < grad.length; i++) {
                    best = Math.abs(grad[i]) > Math.abs(grad[best]) ? i : best;
                }
                assertThat(Math.abs(grad[best])).as(probe).isGreaterThan(1e-4f);
                double eps = 1e-2;
                double plus = lossWithDelta(model, p, best, eps, objective, both);
                double minus = lossWithDelta(model, p, best, -eps, objective, both);
                double numeric = (plus - minus) / (2 * eps);
                assertThat((double) grad[best]).as(probe).isCloseTo(numeric, within(0.03 * Math.abs(numeric) + 2e-4));
            }
        }
    }

    private static double lossWithDelta(FullFineTune model, TrainableParameter p, int flatIndex, double delta,
            PreferenceObjective objective, int[] batch) {
        NDArray w = p.value();
        long[] shape = w.getShape().getShape();
        NDIndex at = shape.length == 1 ? new NDIndex(flatIndex) : new NDIndex(flatIndex / shape[1], flatIndex % shape[1]);
        float original = w.get(at).getFloat();
        try (NDManager scope = model.base().manager().newSubManager()) {
            w.set(at, original + (float) delta);
            return objective.loss(model.base(), batch, scope).getFloat();
        } finally {
            w.set(at, original);
        }
    }
}
