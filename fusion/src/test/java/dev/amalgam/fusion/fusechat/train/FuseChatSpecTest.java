package dev.amalgam.fusion.fusechat.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.fusion.InvalidFusionSpecException;
import dev.amalgam.fusion.fusechat.FuseLossType;
import dev.amalgam.fusion.fusechat.FusionFunction;
import dev.amalgam.fusion.fusechat.MetricLevel;
import dev.amalgam.fusion.train.StepAccounting;
import dev.amalgam.modelio.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The FuseChat training spec: the authors' recipe by default, every problem reported at once, a JSON round trip. */
class FuseChatSpecTest {

    static FuseChatSpec parse(String json) {
        return FuseChatSpec.fromJson(Json.MAPPER.readTree(json));
    }

    static List<String> problems(String json) {
        try {
            parse(json);
        } catch (InvalidFusionSpecException e) {
            return e.problems();
        }
        throw new AssertionError("expected problems for " + json);
    }

    @Test
    void anEmptySpecIsTheAuthorsRecipe() {
        FuseChatSpec d = parse("{}");
        assertThat(d).isEqualTo(FuseChatSpec.defaults());
        assertThat(d.lr()).isEqualTo(5e-6);
        assertThat(d.epochs()).isEqualTo(3);
        assertThat(d.batchSize() * d.gradAccum()).as("effective batch").isEqualTo(128);
        assertThat(d.warmupRatio()).isEqualTo(0.03);
        assertThat(d.weightDecay()).isZero();
        assertThat(d.maxLength()).isEqualTo(2048);
        assertThat(d.lambda()).isEqualTo(0.9);
        assertThat(d.lambdaSchedule()).isEqualTo("fixed");
        assertThat(d.fusionFunction()).isEqualTo(FusionFunction.MIN_CE);
        assertThat(d.metricLevel()).isEqualTo(MetricLevel.SEQUENCE);
        assertThat(d.distillLoss()).isEqualTo(FuseLossType.CE);
        assertThat(d.temperature()).isEqualTo(1.0);
        assertThat(d.includePivot()).isTrue();
        assertThat(d.vocabMapping()).isEqualTo("ms");
        assertThat(d.stepAccounting()).isEqualTo(StepAccounting.REFERENCE);
        assertThat(d.validate()).isEmpty();
    }

    @Test
    void everyProblemIsListedWithItsField() {
        List<String> p = problems("""
                {"epochs": 0, "lr": -1, "batchSize": 0, "gradAccum": 2000, "maxLength": 1, "warmupRatio": 1,
                 "weightDecay": -0.1, "maxGradNorm": -1, "lambda": 1.5, "lambdaSchedule": "cosine",
                 "fusionFunction": "max_ce", "metricLevel": "word", "distillLoss": "mse", "temperature": 0,
                 "includePivot": "yes", "vocabMapping": "exact", "checkpointEvery": 0, "outputDtype": "int8",
                 "device": "tpu", "stepAccounting": "odd", "lora": {"rank": 0, "dropout": 0.1}, "beta": 0.1}""");
        for (String field : List.of("epochs", "lr", "batchSize", "gradAccum", "maxLength", "warmupRatio",
                "weightDecay", "maxGradNorm", "lambda: must", "lambdaSchedule", "fusionFunction", "metricLevel",
                "distillLoss", "temperature", "includePivot", "vocabMapping", "checkpointEvery", "outputDtype",
                "device", "stepAccounting", "rank", "dropout", "beta")) {
            assertThat(p).as(field).anyMatch(s -> s.contains(field));
        }
    }

    @Test
    void aSpecReadsBackFromItsJson() {
        FuseChatSpec s = parse("""
                {"epochs": 2, "lr": 1e-5, "lambda": 0.8, "lambdaSchedule": "rising", "fusionFunction": "avg_ce",
                 "metricLevel": "token", "distillLoss": "kl", "temperature": 2.0, "includePivot": false,
                 "vocabMapping": "mined", "seed": 7, "lora": {"rank": 4}, "outputDtype": "fp32", "device": "cpu",
                 "stepAccounting": "all-batches"}""");
        assertThat(FuseChatSpec.fromJson(s.toJson())).isEqualTo(s);
        assertThat(s.fusionFunction()).isEqualTo(FusionFunction.AVG_CE);
        assertThat(s.lora().rank()).isEqualTo(4);
    }

    @Test
    void notAnObjectIsAProblem() {
        assertThatThrownBy(() -> FuseChatSpec.fromJson(Json.MAPPER.readTree("[1]")))
                .isInstanceOf(InvalidFusionSpecException.class);
    }
}
