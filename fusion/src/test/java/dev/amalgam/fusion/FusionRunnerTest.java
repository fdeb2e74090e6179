package dev.amalgam.fusion;

import dev.amalgam.job.Progress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** End-to-end runs on a tiny model: learning, evaluation, output checkpoint (resume: ResumeTest). */
class FusionRunnerTest {

    @TempDir
    static Path shared;
    static Path model;
    static Path train;
    static Path eval;

    @BeforeAll
    static void data() {
        model = TinyData.llama(shared.resolve("target"), 21);
        train = shared.resolve("train.jsonl");
        eval = shared.resolve("eval.jsonl");
        PreferenceJsonl.write(train, TinyData.patterned(16, 100));
        PreferenceJsonl.write(eval, TinyData.patterned(8, 200)); // held out: other strings, same pattern
    }

    static FusionSpec spec(String extra) {
        return FusionSpec.fromJson(Json.MAPPER.readTree("""
                {"stages": ["wrpo"], "loss": "wrpo", "epochs": 3, "lr": 0.003, "beta": 0.1, "alphaEnd": 0.5,
                 "batchSize": 4, "gradAccum": 1, "maxLength": 64, "maxPromptLength": 32, "warmupRatio": 0.1,
                 "checkpointEvery": 4, "evalEvery": 6, "device": "cpu", "outputDtype": "fp32" %s}"""
                .formatted(extra)));
    }

    /** Records every event. */
    static final class Recorder implements Progress {
        final List<Map<String, Double>> steps = new ArrayList<>();
        final List<Double> progress = new ArrayList<>();
        int cancelAfter = Integer.MAX_VALUE;

        @Override
        public void metrics(String stage, long step, Map<String, ? extends Number> values) {
            Map<String, Double> copy = new LinkedHashMap<>();
            values.forEach((k, v) -> copy.put(k, v.doubleValue()));
            steps.add(copy);
        }

        @Override
        public void progress(double fraction, String message) {
            progress.add(fraction);
        }

        @Override
        public boolean isCancelled() {
            return steps.size() >= cancelAfter;
        }
    }

    @Test
    void shortWrpoRunRaisesHeldOutAccuracyAndMargins(@TempDir Path work) {
        Recorder rec = new Recorder();
        FusionResult r = FusionRunner.run(spec(""), model, train, eval, work.resolve("w"), work.resolve("out"), rec);
        assertThat(r.stepsByStage()).containsEntry("wrpo", 12L);
        assertThat(rec.steps).hasSize(12);
        // Step 1: the policy is the reference, so every reward is 0 and alpha is 0.
        Map<String, Double> first = rec.steps.get(0);
        assertThat(first.get("rewards/margins")).isZero();
        assertThat(first.get("alpha")).isZero();
        assertThat(first.get("loss")).isCloseTo(Math.log(2), org.assertj.core.api.Assertions.within(1e-6));
        assertThat(first.get("learning_rate")).isZero(); // warmup starts at 0, as transformers' schedule
        // Alpha rises linearly to alpha_end over the 12 steps: step k (1-based) used alpha(k - 1) = 0.5 (k - 1) / 12.
        assertThat(rec.steps.get(6).get("alpha")).isCloseTo(0.25, org.assertj.core.api.Assertions.within(1e-12));
        Map<String, Double> last = rec.steps.get(11);
        // Held out, evaluated at steps 6 and 12: the pattern carries over.
        assertThat(rec.steps.get(5)).containsKey("eval_rewards/accuracies");
        assertThat(last.get("eval_rewards/accuracies")).isGreaterThanOrEqualTo(0.875);
        assertThat(last.get("eval_rewards/margins")).isGreaterThan(0.5);
        assertThat(last.get("eval_loss")).isLessThan(Math.log(2) - 0.2);
        assertThat(last.get("rewards/margins")).isGreaterThan(last.get("eval_rewards/margins") * 0.5);
        assertThat(last).containsKeys("rewards/source_chosen", "rewards/target_chosen", "rewards/rejected",
                "rewards/source_accuracies", "rewards/target_accuracies", "logps/rejected", "logits/source_chosen",
                "logits/target_chosen", "logits/rejected", "grad_norm", "epoch");
        assertThat(rec.progress).isSorted().last().isEqualTo(1.0);
        // Output: a loadable Hugging Face checkpoint with the report beside it.
        try (HfModelDir out = HfModelDir.open(r.modelDir())) {
            assertThat(out.tensorNames()).isEqualTo(HfModelDir.open(model).tensorNames());
            assertThat(out.dominantDtype()).isEqualTo(DType.F32);
        }
        JsonNode report = Json.read(r.report());
        assertThat(report.path("history").size()).isEqualTo(12);
        assertThat(report.path("finalMetrics").has("wrpo/eval_rewards/accuracies")).isTrue();
    }

    @Test
    void simpoNeedsNoReferenceAndLearnsToo(@TempDir Path work) {
        Recorder rec = new Recorder();
        FusionSpec spec = spec(", \"loss\": \"simpo\", \"beta\": 2.0, \"simpoGamma\": 0.5, \"epochs\": 2,"
                + " \"evalEvery\": 0");
        FusionRunner.run(spec, model, train, eval, work.resolve("w"), work.resolve("out"), rec);
        assertThat(work.resolve("w").resolve("reference-logps-train.json")).doesNotExist();
        Map<String, Double> first = rec.steps.get(0);
        Map<String, Double> last = rec.steps.get(rec.steps.size() - 1);
        // SimPO's rewards are beta * mean token log-prob: not zero at the start, unlike the reference-based losses.
        assertThat(first.get("rewards/chosen")).isNegative();
        assertThat(last.get("eval_rewards/margins")).isGreaterThan(first.get("rewards/margins") + 0.5);
        assertThat(last.get("eval_loss")).isLessThan(first.get("loss"));
    }

    @Test
    void aWorkDirServesOnlyTheSpecThatStartedIt(@TempDir Path work) {
        FusionRunner.pinSpec(spec(""), work);
        FusionRunner.pinSpec(spec(""), work); // same spec: fine
        assertThatThrownBy(() -> FusionRunner.pinSpec(spec(", \"beta\": 0.2"), work))
                .hasMessageContaining("another spec");
    }

    @Test
    void invalidSpecIsRejectedBeforeAnyWork(@TempDir Path work) {
        FusionSpec bad = new FusionSpec(List.of("wrpo"), null, 0, -1, 1, 1e-5, 0.1, 2, "cubic", 0, 0,
                null, 0, 1, 10, 20, 0.1, 0, 1, 1, 0, -1, null, "int8", "tpu", null, null);
        assertThatThrownBy(() -> FusionRunner.run(bad, model, train, null, work, work.resolve("o"),
                Progress.NONE)).isInstanceOfSatisfying(InvalidFusionSpecException.class,
                        e -> assertThat(e.problems()).hasSizeGreaterThanOrEqualTo(11));
    }

    @Test
    void recordsLongerThanTheTargetsContextAreRefusedBeforeAnyWork(@TempDir Path work) {
        FusionSpec tooLong = spec(", \"maxLength\": 300, \"epochs\": 1");
        assertThatThrownBy(() -> FusionRunner.run(tooLong, model, train, null, work.resolve("w"), work.resolve("out"),
                Progress.NONE))
                .isInstanceOfSatisfying(InvalidFusionSpecException.class, e -> assertThat(e.problems())
                        .containsExactly("maxLength 300 exceeds the target's max_position_embeddings 256"));
        assertThat(work.resolve("w")).as("nothing was started").doesNotExist();
    }
}
