package dev.amalgam.pruning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.modelengine.LlamaConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Parsing and validation of the job spec: every problem reported at once. */
class PruneSpecTest {

    static final JsonMapper JSON = JsonMapper.builder().build();

    static JsonNode json(String text) {
        return JSON.readTree(text);
    }

    @Test
    void defaultsAreTheReferenceSettings() {
        PruneSpec spec = PruneSpec.parse(json("{\"blocks\": 12}"));
        assertThat(spec).isEqualTo(new PruneSpec(PruneMethods.get("blockpruner"), 12, null, Candidates.MIX, 256, 2048,
                42, 8, OutputForm.MASKED, 8192));
        assertThat(PruneSpec.parse(spec.toJson())).isEqualTo(spec);
    }

    @Test
    void everyFieldParses() {
        PruneSpec spec = PruneSpec.parse(json("""
                {"method": "oneshot_block", "targetRatio": 0.25, "candidates": "mha", "samples": 32, "seqLen": 128,
                 "seed": 7, "batchSize": 2, "output": "compact", "cacheBudgetMb": 0}"""));
        assertThat(spec).isEqualTo(new PruneSpec(PruneMethods.get("oneshot_block"), null, 0.25, Candidates.ATTENTION,
                32, 128, 7, 2, OutputForm.COMPACT, 0));
        assertThat(PruneSpec.parse(spec.toJson())).isEqualTo(spec);
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        List<String> problems = new ArrayList<>();
        PruneSpec.fromJson(json("""
                {"method": "sleb", "blocks": 0, "targetRatio": 1.5, "candidates": "heads", "samples": 0,
                 "seqLen": 1, "batchSize": 0, "output": "gguf", "cacheBudgetMb": -1, "colour": "red"}"""),
                Set.of(), problems);
        assertThat(problems).as("an unknown value is not also reported as missing")
                .noneMatch(p -> p.startsWith("method: required")).noneMatch(p -> p.startsWith("candidates: required"))
                .noneMatch(p -> p.startsWith("output: required"));
        assertThat(problems).anyMatch(p -> p.startsWith("method: unknown 'sleb'") && p.contains("blockpruner"))
                .anyMatch(p -> p.startsWith("candidates: unknown 'heads'"))
                .anyMatch(p -> p.startsWith("output: unknown 'gguf'"))
                .anyMatch(p -> p.startsWith("colour: unknown field"))
                .anyMatch(p -> p.startsWith("blocks/targetRatio: give exactly one"))
                .anyMatch(p -> p.startsWith("blocks: must be >= 1"))
                .anyMatch(p -> p.startsWith("targetRatio: must be in (0, 1)"))
                .anyMatch(p -> p.startsWith("samples:"))
                .anyMatch(p -> p.startsWith("seqLen:"))
                .anyMatch(p -> p.startsWith("batchSize:"))
                .anyMatch(p -> p.startsWith("cacheBudgetMb:"));
    }

    @Test
    void fieldsThatSizeTheWorkHaveUpperBounds() {
        List<String> problems = new ArrayList<>();
        PruneSpec.fromJson(json("""
                {"blocks": 2, "samples": 65537, "seqLen": 131073, "batchSize": 1025, "cacheBudgetMb": 262145}"""),
                Set.of(), problems);
        assertThat(problems).containsExactly("samples: must be an integer between 1 and 65536, got 65537",
                "seqLen: must be an integer between 2 and 131072, got 131073",
                "batchSize: must be an integer between 1 and 1024, got 1025",
                "cacheBudgetMb: must be an integer between 0 and 262144, got 262145");
        assertThat(PruneSpec.parse(json("""
                {"blocks": 2, "samples": 65536, "seqLen": 131072, "batchSize": 1024, "cacheBudgetMb": 262144}""")).samples())
                .isEqualTo(65536);
        problems.clear();
        PruneSpec.fromJson(json("{\"blocks\": 2147483648, \"seqLen\": 99999999999999}"), Set.of(), problems);
        assertThat(problems).containsExactly("blocks: must be an integer between -2147483648 and 2147483647, got 2147483648",
                "seqLen: must be an integer between 2 and 131072, got 99999999999999");
        // a field out of range does not hide the problems of the others
        problems.clear();
        PruneSpec.fromJson(json("{\"blocks\": -1, \"seqLen\": 99999999999, \"candidates\": \"x\"}"), Set.of(), problems);
        assertThat(problems).containsExactlyInAnyOrder("blocks: must be >= 1, got -1",
                "seqLen: must be an integer between 2 and 131072, got 99999999999",
                "candidates: unknown 'x', expected mix, attention or mlp");
    }

    @Test
    void wrongTypesAreReportedAndExtraFieldsOfTheCallerAccepted() {
        List<String> problems = new ArrayList<>();
        PruneSpec.fromJson(json("{\"blocks\": \"twelve\", \"seed\": 1.5, \"model\": \"m\", \"data\": \"d\"}"),
                Set.of("model", "data"), problems);
        assertThat(problems).containsExactly("blocks: must be an integer, got \"twelve\"",
                "seed: must be an integer, got 1.5");
        assertThatThrownBy(() -> PruneSpec.parse(json("[1]"))).isInstanceOf(InvalidPruneSpecException.class)
                .hasMessageContaining("must be a JSON object");
    }

    @Test
    void layerMethodsNeedEvenBlocksAndMixedCandidates() {
        assertThat(PruneSpec.blockPruner(3).withMethod(PruneMethods.get("shortgpt")).withCandidates(Candidates.MLP)
                .validate())
                .anyMatch(p -> p.startsWith("blocks: shortgpt removes whole layers"))
                .anyMatch(p -> p.startsWith("candidates: shortgpt removes whole layers"));
        assertThat(PruneSpec.blockPruner(4).withMethod(PruneMethods.get("layer_greedy")).validate()).isEmpty();
    }

    @Test
    void specIsCheckedAgainstTheModel() {
        LlamaConfig llama2 = LlamaConfig.fromJson(json(ParameterCountsTest.LLAMA2_7B));
        assertThat(PruneSpec.blockPruner(64).validateFor(llama2)).singleElement().asString()
                .startsWith("blocks: the model has 32 layers").contains("at most 63");
        assertThat(PruneSpec.blockPruner(33).withCandidates(Candidates.ATTENTION).validateFor(llama2))
                .singleElement().asString().contains("at most 32");
        assertThat(PruneSpec.blockPruner(63).validateFor(llama2)).isEmpty();
        assertThat(PruneSpec.blockPruner(1).withTargetRatio(0.5).withCandidates(Candidates.ATTENTION)
                .validateFor(llama2)).singleElement().asString().startsWith("targetRatio: blockpruner with candidates "
                        + "'attention' can reach at most 0.3187");
        assertThat(PruneSpec.blockPruner(2).withCalibration(8, 8192, 42, 1).validateFor(llama2)).singleElement()
                .asString().contains("max_position_embeddings 4096");
    }
}
