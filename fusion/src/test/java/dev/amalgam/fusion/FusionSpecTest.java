package dev.amalgam.fusion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.fusion.loss.LossType;
import dev.amalgam.fusion.loss.PreferenceLosses.BaselineChosen;
import dev.amalgam.modelio.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class FusionSpecTest {

    @Test
    void defaultsAreTheReferenceHyperParameters() {
        FusionSpec d = FusionSpec.fromJson(Json.MAPPER.readTree("{}"));
        assertThat(d).isEqualTo(FusionSpec.defaults());
        assertThat(d.validate()).isEmpty();
        assertThat(d.stages()).containsExactly("sft", "wrpo");
        assertThat(d.loss()).isEqualTo(LossType.WRPO);
        assertThat(d.beta()).isEqualTo(0.01);
        assertThat(d.alphaEnd()).isEqualTo(0.1);
        assertThat(d.lr()).isEqualTo(3e-7);
        assertThat(d.batchSize() * d.gradAccum()).isEqualTo(128);
        assertThat(d.maxLength()).isEqualTo(2048);
        assertThat(d.maxPromptLength()).isEqualTo(1800);
        assertThat(d.outputDtype()).isEqualTo("bf16");
        assertThat(d.lora()).isNull();
    }

    @Test
    void parsesEveryFieldAndRoundTripsThroughToJson() {
        FusionSpec s = FusionSpec.fromJson(Json.MAPPER.readTree("""
                {"stages": "wrpo", "loss": "simpo", "epochs": 2, "lr": 1e-6, "sftEpochs": 3, "sftLr": 2e-5,
                 "beta": 2.5, "alphaEnd": 0.3, "alphaSchedule": "fixed", "simpoGamma": 1.4, "labelSmoothing": 0.1,
                 "baselineChosen": "source",
                 "batchSize": 8, "gradAccum": 4, "maxLength": 1024, "maxPromptLength": 512, "warmupRatio": 0.05,
                 "weightDecay": 0.01, "maxGradNorm": 0.5, "seed": 7, "checkpointEvery": 10, "evalEvery": 20,
                 "lora": {"rank": 8, "alpha": 16, "targetModules": ["q_proj", "v_proj"]}, "outputDtype": "fp16",
                 "device": "gpu:1"}"""));
        assertThat(s.stages()).containsExactly("wrpo");
        assertThat(s.loss()).isEqualTo(LossType.SIMPO);
        assertThat(s.baselineChosen()).isEqualTo(BaselineChosen.SOURCE);
        assertThat(s.labelSmoothing()).isEqualTo(0.1);
        assertThat(s.lora().rank()).isEqualTo(8);
        assertThat(s.lora().scaling()).isEqualTo(2.0);
        assertThat(s.device()).isEqualTo("gpu:1");
        assertThat(FusionSpec.fromJson(s.toJson())).isEqualTo(s);
        assertThat(FusionSpec.fromJson(FusionSpec.defaults().toJson())).isEqualTo(FusionSpec.defaults());
    }

    @Test
    void commandLineFlagsMapOntoTheSameFields() {
        FusionSpec s = FusionSpec.fromFlags(null, new java.util.LinkedHashMap<>(java.util.Map.of("--stages", "sft,wrpo",
                "--loss", "dpo", "--epochs", "2", "--lr", "5e-7", "--beta", "0.1", "--alpha-end", "0.2",
                "--batch-size", "4", "--seed", "9")));
        assertThat(s.stages()).containsExactly("sft", "wrpo");
        assertThat(s.loss()).isEqualTo(LossType.DPO);
        assertThat(s.epochs()).isEqualTo(2);
        assertThat(s.lr()).isEqualTo(5e-7);
        assertThat(s.beta()).isEqualTo(0.1);
        assertThat(s.alphaEnd()).isEqualTo(0.2);
        assertThat(s.batchSize()).isEqualTo(4);
        assertThat(s.seed()).isEqualTo(9);
        assertThat(s.gradAccum()).isEqualTo(FusionSpec.defaults().gradAccum());
        assertThatThrownBy(() -> FusionSpec.fromFlags(null, java.util.Map.of("--alpha-end", "lots", "--bogus", "1")))
                .isInstanceOfSatisfying(InvalidFusionSpecException.class, e -> assertThat(e.problems())
                        .anyMatch(p -> p.contains("alphaEnd: must be a number"))
                        .anyMatch(p -> p.contains("bogus: unknown field")));
    }

    @Test
    void theReadmesRecipeIsAValidSpecWithThePapersHyperParameters() throws Exception {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("README.md"));
        int section = readme.indexOf("## The paper's recipe");
        int from = readme.indexOf("```json", section) + "```json".length();
        String json = readme.substring(from, readme.indexOf("```", from));
        FusionSpec recipe = FusionSpec.fromJson(Json.MAPPER.readTree(json));
        assertThat(recipe.validate()).isEmpty();
        assertThat(recipe.stages()).containsExactly("sft", "wrpo");
        assertThat(recipe.loss()).isEqualTo(LossType.WRPO);
        assertThat(recipe.beta()).isEqualTo(0.01);
        assertThat(recipe.alphaEnd()).isEqualTo(0.1);
        assertThat(recipe.alphaSchedule()).isEqualTo("linear");
        assertThat(recipe.lr()).isEqualTo(3e-7);
        assertThat(recipe.sftLr()).isEqualTo(7e-6);
        assertThat(recipe.batchSize() * recipe.gradAccum()).isEqualTo(128);
        assertThat(recipe.maxLength()).isEqualTo(2048);
        assertThat(recipe.maxPromptLength()).isEqualTo(1800);
        assertThat(recipe.warmupRatio()).isEqualTo(0.1);
        assertThat(recipe.labelSmoothing()).isZero();
        assertThat(recipe.lora().rank()).isEqualTo(16);
    }

    @Test
    void labelSmoothingIsBoundedAndRefusedForIpo() {
        assertThat(FusionSpec.defaults().labelSmoothing()).isZero();
        assertThat(FusionSpec.fromJson(Json.MAPPER.readTree("{\"loss\": \"simpo\", \"labelSmoothing\": 0.49}"))
                .labelSmoothing()).isEqualTo(0.49);
        assertThat(FusionSpec.fromFlags(null, java.util.Map.of("--label-smoothing", "0.2")).labelSmoothing())
                .isEqualTo(0.2);
        for (String bad : List.of("0.5", "-0.1", "1e400")) {
            assertThatThrownBy(() -> FusionSpec.fromJson(Json.MAPPER.readTree("{\"labelSmoothing\": " + bad + "}")))
                    .as(bad).isInstanceOfSatisfying(InvalidFusionSpecException.class, e -> assertThat(e.problems())
                            .anyMatch(p -> p.startsWith("labelSmoothing")));
        }
        assertThatThrownBy(() -> FusionSpec.fromJson(Json.MAPPER.readTree("{\"labelSmoothing\": \"high\"}")))
                .isInstanceOfSatisfying(InvalidFusionSpecException.class, e -> assertThat(e.problems())
                        .anyMatch(p -> p.contains("labelSmoothing: must be a number")));
        assertThatThrownBy(() -> FusionSpec.fromJson(Json.MAPPER.readTree(
                "{\"loss\": \"ipo\", \"labelSmoothing\": 0.1}")))
                .isInstanceOfSatisfying(InvalidFusionSpecException.class, e -> assertThat(e.problems())
                        .containsExactly(
                                "labelSmoothing: must be 0 with loss ipo (it has no label smoothing), got 0.1"));
    }

    @Test
    void tokenizationAndStepAccountingDefaultToTheReferenceAndRoundTrip() throws Exception {
        FusionSpec d = FusionSpec.defaults();
        assertThat(d.tokenization()).isEqualTo(dev.amalgam.fusion.data.Tokenization.AUTO);
        assertThat(d.stepAccounting()).isEqualTo(dev.amalgam.fusion.train.StepAccounting.REFERENCE);
        FusionSpec s = FusionSpec.fromJson(Json.MAPPER.readTree(
                "{\"tokenization\": \"amalgam\", \"stepAccounting\": \"all-batches\"}"));
        assertThat(s.tokenization()).isEqualTo(dev.amalgam.fusion.data.Tokenization.AMALGAM);
        assertThat(s.stepAccounting()).isEqualTo(dev.amalgam.fusion.train.StepAccounting.ALL_BATCHES);
        assertThat(FusionSpec.fromJson(s.toJson())).isEqualTo(s);
        assertThat(s.toJson().path("stepAccounting").asString()).isEqualTo("all-batches");
        assertThat(FusionSpec.fromFlags(null, java.util.Map.of("--step-accounting", "all-batches",
                "--tokenization", "reference")).tokenization()).isEqualTo(dev.amalgam.fusion.data.Tokenization.REFERENCE);
        assertThatThrownBy(() -> FusionSpec.fromJson(Json.MAPPER.readTree(
                "{\"tokenization\": \"bpe\", \"stepAccounting\": 3}")))
                .isInstanceOfSatisfying(InvalidFusionSpecException.class, e -> assertThat(e.problems())
                        .anyMatch(p -> p.startsWith("tokenization") && p.contains("auto, reference or amalgam"))
                        .anyMatch(p -> p.startsWith("stepAccounting")));
    }

    @Test
    void reportsEveryProblemAtOnce() {
        assertThatThrownBy(() -> FusionSpec.fromJson(Json.MAPPER.readTree("""
                {"stages": ["wrpo", "sft", "dpo"], "loss": "kto", "epochs": "two", "lr": -1, "beta": 0,
                 "alphaEnd": 1.5, "alphaSchedule": "cubic", "batchSize": 0, "maxLength": 100, "maxPromptLength": 100,
                 "lora": {"rank": 0, "targetModules": ["lm_head"], "dropout": 0.1}, "outputDtype": "int8",
                 "device": "tpu", "learningRate": 1}""")))
                .isInstanceOfSatisfying(InvalidFusionSpecException.class, e -> assertThat(e.problems())
                        .anyMatch(p -> p.contains("learningRate: unknown field"))
                        .anyMatch(p -> p.contains("lora.dropout: unknown field"))
                        .anyMatch(p -> p.contains("unknown stage 'dpo'"))
                        .anyMatch(p -> p.contains("sft must come before wrpo"))
                        .anyMatch(p -> p.contains("unknown loss 'kto'"))
                        .anyMatch(p -> p.contains("epochs: must be an integer"))
                        .anyMatch(p -> p.contains("lr: must be"))
                        .anyMatch(p -> p.contains("beta: must be"))
                        .anyMatch(p -> p.contains("alphaEnd: must be in [0, 1]"))
                        .anyMatch(p -> p.contains("alphaSchedule: must be linear or fixed"))
                        .anyMatch(p -> p.contains("batchSize: must be > 0"))
                        .anyMatch(p -> p.contains("maxPromptLength: must be below maxLength (100), got 100"))
                        .anyMatch(p -> p.contains("lora.rank: must be > 0"))
                        .anyMatch(p -> p.contains("unknown module 'lm_head'"))
                        .anyMatch(p -> p.contains("outputDtype"))
                        .anyMatch(p -> p.contains("device: must be")));
        assertThat(new FusionSpec(List.of(), LossType.DPO, 1, 1, 1, 1, 1, 0, "linear", 0, 0, BaselineChosen.TARGET, 1, 1,
                10, 5, 0, 0, 0, 0, 1, 0, null, "bf16", "cpu", dev.amalgam.fusion.data.Tokenization.AUTO,
                dev.amalgam.fusion.train.StepAccounting.REFERENCE).validate()).containsExactly(
                        "stages: must name at least one of sft, wrpo");
    }

    @Test
    void fieldsThatSizeTheWorkHaveUpperBounds() {
        assertThatThrownBy(() -> FusionSpec.fromJson(Json.MAPPER.readTree("""
                {"epochs": 101, "sftEpochs": 101, "batchSize": 1025, "gradAccum": 1025, "maxLength": 131073,
                 "lora": {"rank": 1025, "alpha": 1e400}}""")))
                .isInstanceOfSatisfying(InvalidFusionSpecException.class, e -> assertThat(e.problems()).containsExactly(
                        "lora.alpha: must be a finite number, got Infinity",
                        "epochs: must be at most 100, got 101", "sftEpochs: must be at most 100, got 101",
                        "maxLength: must be at most 131072, got 131073", "batchSize: must be at most 1024, got 1025",
                        "gradAccum: must be at most 1024, got 1025", "lora.rank: must be at most 1024, got 1025"));
        assertThat(FusionSpec.fromJson(Json.MAPPER.readTree("""
                {"epochs": 100, "sftEpochs": 100, "batchSize": 1024, "gradAccum": 1024, "maxLength": 131072,
                 "lora": {"rank": 1024}}""")).maxLength()).isEqualTo(131072);
    }

    @Test
    void aFlagBeyondTheLongRangeIsAProblemOfItsField() {
        assertThatThrownBy(() -> FusionSpec.fromFlags(null, java.util.Map.of("--epochs", "99999999999999999999",
                "--seed", "-99999999999999999999")))
                .isInstanceOfSatisfying(InvalidFusionSpecException.class, e -> assertThat(e.problems())
                        .anyMatch(p -> p.startsWith("epochs: must be an integer"))
                        .anyMatch(p -> p.startsWith("seed: must be an integer")));
    }
}
