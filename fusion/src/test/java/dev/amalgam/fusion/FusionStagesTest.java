package dev.amalgam.fusion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SFT then WRPO in one job, and LoRA training merged on save (resume: ResumeTest). */
class FusionStagesTest {

    @TempDir
    Path dir;

    @Test
    void sftThenWrpoWithTheSftModelAsReference() {
        Path model = TinyData.llama(dir.resolve("target"), 31);
        List<PreferenceRecord> records = new ArrayList<>();
        TinyData.patterned(6, 5).forEach(r -> records.add(PreferenceRecord.sft(r.prompt().get(0).content(),
                r.sourceChosen())));
        records.addAll(TinyData.patterned(8, 6));
        Path data = dir.resolve("data.jsonl");
        PreferenceJsonl.write(data, records);
        FusionSpec spec = FusionRunnerTest.spec(", \"stages\": \"sft,wrpo\", \"sftLr\": 0.01, \"sftEpochs\": 4,"
                + " \"epochs\": 1, \"batchSize\": 2, \"maxLength\": 48, \"outputDtype\": \"bf16\"");
        FusionRunnerTest.Recorder rec = new FusionRunnerTest.Recorder();
        FusionResult r = FusionRunner.run(spec, model, data, null, dir.resolve("w"), dir.resolve("out"), rec);
        long sftSteps = r.stepsByStage().get("sft");
        assertThat(sftSteps).isGreaterThanOrEqualTo(4);
        assertThat(r.stepsByStage()).containsEntry("wrpo", 4L);
        List<Map<String, Double>> sft = rec.steps.subList(0, (int) sftSteps);
        assertThat(sft.get(sft.size() - 1).get("loss")).isLessThan(sft.get(0).get("loss") - 0.5);
        // The first WRPO step sees zero rewards: the reference is the model after SFT, not the original target.
        Map<String, Double> firstWrpo = rec.steps.get((int) sftSteps);
        assertThat(firstWrpo.get("rewards/margins")).isCloseTo(0.0, within(1e-9));
        try (HfModelDir out = HfModelDir.open(r.modelDir())) {
            assertThat(out.dominantDtype()).isEqualTo(DType.BF16);
            assertThat(out.config().path("torch_dtype").asString()).isEqualTo("bfloat16");
        }
    }

    @Test
    void loraTrainsAdaptersOnlyAndMergesThemOnSave() {
        Path model = TinyData.llama(dir.resolve("target"), 41);
        Path train = dir.resolve("train.jsonl");
        Path eval = dir.resolve("eval.jsonl");
        PreferenceJsonl.write(train, TinyData.patterned(16, 100));
        PreferenceJsonl.write(eval, TinyData.patterned(8, 200));
        FusionSpec spec = FusionRunnerTest.spec(", \"lr\": 0.01, \"lora\": {\"rank\": 4, \"alpha\": 8,"
                + " \"targetModules\": [\"q_proj\", \"v_proj\", \"down_proj\"]}");
        FusionRunnerTest.Recorder rec = new FusionRunnerTest.Recorder();
        FusionResult r = FusionRunner.run(spec, model, train, eval, dir.resolve("w"), dir.resolve("out"), rec);
        // Per layer: q A[4,32]+B[32,4] = 256, v A[4,32]+B[16,4] = 192, down A[4,64]+B[32,4] = 384; 2 layers.
        assertThat(Json.read(r.report()).path("trainableParameters").asLong()).isEqualTo(2 * (256 + 192 + 384));
        assertThat(rec.steps.get(rec.steps.size() - 1).get("eval_rewards/accuracies")).isGreaterThanOrEqualTo(0.75);
        try (HfModelDir base = HfModelDir.open(model); HfModelDir out = HfModelDir.open(r.modelDir())) {
            assertThat(out.tensor("model.layers.0.self_attn.k_proj.weight").toFloatArray())
                    .containsExactly(base.tensor("model.layers.0.self_attn.k_proj.weight").toFloatArray());
            assertThat(out.tensor("model.embed_tokens.weight").toFloatArray())
                    .containsExactly(base.tensor("model.embed_tokens.weight").toFloatArray());
            assertThat(out.tensor("model.layers.1.mlp.down_proj.weight").toFloatArray())
                    .isNotEqualTo(base.tensor("model.layers.1.mlp.down_proj.weight").toFloatArray());
        }
    }
}
