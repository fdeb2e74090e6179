package dev.amalgam.platform.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.platform.artifact.ArtifactKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The structure of a pipeline spec, its references, and the problems named by step. */
class PipelineSpecReaderTest {

    static final JsonMapper JSON = JsonMapper.builder().build();

    static List<String> problems(String json) {
        List<String> problems = new ArrayList<>();
        PipelineSpec spec = PipelineSpecReader.read(JSON.readTree(json), problems);
        assertThat(spec == null).isEqualTo(!problems.isEmpty());
        return problems;
    }

    @Test
    void readsStepsAndTheirDependenciesFromTheReferences() {
        List<String> problems = new ArrayList<>();
        PipelineSpec spec = PipelineSpecReader.read(JSON.readTree("""
                {"steps": [
                  {"name": "prune", "type": "prune", "spec": {"model": "base", "name": "p"}},
                  {"name": "merge", "type": "merge", "spec": {"configYaml": "models:\\n  - model: ${steps.prune.outputs.model}+lora\\n", "output": "m"}}
                ]}"""), problems);
        assertThat(problems).isEmpty();
        assertThat(spec.step("prune").dependsOn()).isEmpty();
        assertThat(spec.step("merge").dependsOn()).containsExactly("prune");
        assertThat(spec.order()).extracting(PipelineSpec.Step::name).containsExactly("prune", "merge");
        assertThat(PipelineSpecReader.stored(spec.toJson())).isEqualTo(spec);
    }

    @Test
    void everyStructuralProblemIsReportedAtOnceNamingTheStep() {
        assertThat(problems("""
                {"steps": [
                  {"name": "a", "type": "merge", "spec": {"model": "${steps.nope.outputs.model}"}},
                  {"name": "a", "type": "prune", "spec": {}},
                  {"name": "bad name", "spec": []},
                  {"name": "c", "type": "merge", "spec": {"m": "${steps.c.outputs.model}", "x": "${steps.a.outputs.weights}"}, "extra": 1}
                ]}""")).containsExactlyInAnyOrder(
                "steps[1].name: 'a' is already the name of steps[0]",
                "steps[2].name: must be 1-64 letters, digits, '_' or '-', starting with a letter or digit, got 'bad name'",
                "steps[2].type: the step's job type (merge, prune, evaluate, fuse, ...) is required",
                "steps[2].spec: must be an object (the job spec of the step's type)",
                "steps[3].spec.x: '${steps.a.outputs.weights}' is not a step reference; write ${steps.NAME.outputs.KIND} with KIND"
                        + " one of model, dataset, report, checkpoint",
                "steps[3].extra: unknown field (known: name, type, spec)",
                "steps[0].spec: ${steps.nope.outputs.model} refers to no step (steps: a, c)",
                "steps[3].spec: ${steps.c.outputs.model} refers to the step itself");
    }

    @Test
    void aCycleIsRefusedWithItsSteps() {
        assertThat(problems("""
                {"steps": [
                  {"name": "a", "type": "merge", "spec": {"m": "${steps.c.outputs.model}"}},
                  {"name": "b", "type": "merge", "spec": {"m": "${steps.a.outputs.model}"}},
                  {"name": "c", "type": "merge", "spec": {"m": "${steps.b.outputs.model}"}}
                ]}""")).containsExactly("steps[0]: the steps refer to each other in a cycle: a -> c -> b -> a");
    }

    @Test
    void anEmptyOrMissingListOfStepsIsAProblem() {
        assertThat(problems("{}")).containsExactly("steps: a list of steps is required");
        assertThat(problems("{\"steps\": []}")).containsExactly("steps: must hold 1 to 64 steps, got 0");
        assertThat(problems("{\"steps\": [], \"other\": 1}")).contains("other: unknown field (known: steps)");
    }

    @Test
    void referencesAreReplacedInsideStringsOnly() {
        JsonNode spec = JSON.readTree("""
                {"a": "${steps.x.outputs.model}", "b": ["pre-${steps.x.outputs.model}+${steps.y.outputs.checkpoint}"], "n": 3}""");
        JsonNode resolved = StepReferences.resolve(spec, Map.of(
                new StepReferences.Reference("x", ArtifactKind.MODEL), "11",
                new StepReferences.Reference("y", ArtifactKind.CHECKPOINT), "$2"));
        assertThat(resolved.toString()).isEqualTo("{\"a\":\"11\",\"b\":[\"pre-11+$2\"],\"n\":3}");
        assertThat(spec.path("a").stringValue()).as("the spec itself is left as it is").isEqualTo("${steps.x.outputs.model}");
    }
}
