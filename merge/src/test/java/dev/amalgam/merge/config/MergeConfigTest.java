package dev.amalgam.merge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class MergeConfigTest {

    @Test
    void parsesMergekitTiesYamlAsIs() {
        MergeConfig cfg = MergeConfig.parseYaml("""
                models:
                  - model: psmathur/orca_mini_v3_13b
                    parameters:
                      density: [1, 0.7, 0.1] # density gradient
                      weight: 1.0
                  - model: garage-bAInd/Platypus2-13B
                    parameters:
                      density: 0.5
                      weight: [0, 0.3, 0.7, 1] # weight gradient
                  - model: WizardLM/WizardMath-13B-V1.0
                    parameters:
                      density: 0.33
                      weight:
                        - filter: mlp
                          value: 0.5
                        - value: 0
                merge_method: ties
                base_model: TheBloke/Llama-2-13B-fp16
                parameters:
                  normalize: true
                  int8_mask: true
                dtype: float16
                """);
        assertThat(cfg.mergeMethod()).isEqualTo("ties");
        assertThat(cfg.models()).hasSize(3);
        assertThat(cfg.referencedModels()).first().isEqualTo("TheBloke/Llama-2-13B-fp16");
        ParameterSetting density = cfg.models().get(0).parameters().get("density");
        // gradient [1, 0.7, 0.1]: t = 0.25 -> halfway between 1 and 0.7
        assertThat((Double) density.evaluate("model.layers.3.mlp.up_proj.weight", 0.25)).isCloseTo(0.85, within(1e-12));
        assertThat((Double) density.evaluate("x", 1.0)).isCloseTo(0.1, within(1e-12));
        ParameterSetting weight = cfg.models().get(2).parameters().get("weight");
        assertThat(weight.evaluate("model.layers.0.mlp.down_proj.weight", 0)).isEqualTo(0.5);
        assertThat(weight.evaluate("model.layers.0.self_attn.q_proj.weight", 0)).isEqualTo(0.0);
        assertThat(cfg.parameters().get("int8_mask").evaluate("x", 0)).isEqualTo(true);
    }

    @Test
    void parsesSlicesForSlerpWithFilteredGradients() {
        MergeConfig cfg = MergeConfig.parseYaml("""
                slices:
                  - sources:
                      - model: OpenPipe/mistral-ft-optimized-1218
                        layer_range: [0, 32]
                      - model: mlabonne/NeuralHermes-2.5-Mistral-7B
                        layer_range: [0, 32]
                merge_method: slerp
                base_model: OpenPipe/mistral-ft-optimized-1218
                parameters:
                  t:
                    - filter: self_attn
                      value: [0, 0.5, 0.3, 0.7, 1]
                    - filter: mlp
                      value: [1, 0.5, 0.7, 0.3, 0]
                    - value: 0.5
                dtype: bfloat16
                """);
        assertThat(cfg.slices()).singleElement().satisfies(s -> assertThat(s.sources()).hasSize(2));
        assertThat(cfg.slices().get(0).sources().get(1).layerEnd()).isEqualTo(32);
        ParameterSetting t = cfg.parameters().get("t");
        assertThat((Double) t.evaluate("model.layers.0.self_attn.o_proj.weight", 0.5)).isCloseTo(0.3, within(1e-12));
        assertThat((Double) t.evaluate("model.layers.0.mlp.up_proj.weight", 0.125)).isCloseTo(0.75, within(1e-12));
        assertThat(t.evaluate("model.norm.weight", 0)).isEqualTo(0.5);
    }

    @Test
    void jsonHasTheSameStructure() {
        MergeConfig yaml = MergeConfig.parseYaml("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: 0.3}
                  - model: b
                    parameters: {weight: 0.7}
                dtype: bfloat16
                """);
        MergeConfig json = MergeConfig.parseJson("""
                {"merge_method": "linear", "models": [{"model": "a", "parameters": {"weight": 0.3}},
                 {"model": "b", "parameters": {"weight": 0.7}}], "dtype": "bfloat16"}""");
        assertThat(json.models()).isEqualTo(yaml.models());
        assertThat(json.dtype()).isEqualTo(yaml.dtype());
    }

    @Test
    void reportsEveryProblemAtOnce() {
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> MergeConfig.parseYaml("""
                merge_method: ties
                models:
                  - model: a
                    parameters: {weight: 1, densty: 0.5, density: 1.5}
                  - model: b
                parameters:
                  lambda: yes please
                dtype: float8
                chat_template: not-a-template
                extra_key: 1
                """));
        // the misspelt parameter and the unknown key are ignored, as mergekit ignores them (warnings, not problems)
        assertThat(e.problems()).anySatisfy(p -> assertThat(p).contains("density").contains("out of range"))
                .anySatisfy(p -> assertThat(p).contains("lambda").contains("must be a number"))
                .anySatisfy(p -> assertThat(p).contains("requires base_model"))
                .anySatisfy(p -> assertThat(p).contains("dtype 'float8'"))
                .anySatisfy(p -> assertThat(p).contains("chat_template"));
        assertThat(e.problems()).hasSize(5);
    }

    @Test
    void unknownMethodListsTheKnownOnes() {
        assertThatThrownBy(() -> MergeConfig.parseYaml("merge_method: magic\nmodels: [{model: a}]"))
                .isInstanceOf(MergeConfigException.class)
                .hasMessageContaining("unknown merge_method 'magic'").hasMessageContaining("slerp, task_arithmetic, ties");
    }

    @Test
    void structuralErrors() {
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> MergeConfig.parseYaml("""
                merge_method: passthrough
                slices:
                  - sources:
                      - model: a
                        layer_range: [0, 8]
                  - sources:
                      - model: b
                        layer_range: [4, 2]
                      - model: c
                        layer_range: [0, 4]
                models:
                  - model: d
                """));
        assertThat(e.problems()).anySatisfy(p -> assertThat(p).contains("exactly one of 'models', 'slices' or 'modules'"))
                .anySatisfy(p -> assertThat(p).contains("0 <= start < end"))
                .anySatisfy(p -> assertThat(p).contains("same number of layers"))
                .anySatisfy(p -> assertThat(p).contains("passthrough takes exactly one model"));
        assertThatThrownBy(() -> MergeConfig.parseYaml("merge_method: [")).isInstanceOf(MergeConfigException.class)
                .hasMessageContaining("not valid YAML");
    }

    @Test
    void modelsFormBecomesOneSliceOverAllLayers() {
        MergeConfig cfg = MergeConfig.parseJson("""
                {"merge_method": "task_arithmetic", "base_model": "b",
                 "models": [{"model": "x", "parameters": {"weight": 1}}]}""");
        // the base is added as the last source, as mergekit's normalize_config does
        assertThat(cfg.asSlices()).singleElement().satisfies(s -> {
            assertThat(s.sources()).extracting(SliceSource::model).containsExactly("x", "b");
            assertThat(s.sources()).allSatisfy(src -> assertThat(src.layerEnd()).isEqualTo(-1));
            assertThat(s.sources().get(1).parameters()).isEmpty();
        });
    }

    @Test
    void aLayerRangeBeyondTheLayerLimitIsAProblemOfItsSource() {
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> MergeConfig.parseYaml("""
                merge_method: passthrough
                slices: [{sources: [{model: a, layer_range: [0, 2147483647]}]}]
                """));
        assertThat(e.problems()).containsExactly("slices[0].sources[0] (a).layer_range [0, 2147483647] goes beyond layer 1024,"
                + " the most a model or a merge may have");
    }

    @Test
    void aLayerRangeBeyondTheIntRangeIsAProblemNotACrash() {
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> MergeConfig.parseJson("""
                {"merge_method": "passthrough", "slices": [{"sources": [{"model": "a", "layer_range": [0, 99999999999]}]}]}"""));
        assertThat(e.problems()).contains("slices[0].sources[0].layer_range [0,99999999999] is out of range: an output"
                + " has at most 1024 layers");
    }

    @Test
    void slicesAddingUpToMoreThanTheLayerLimitAreRefused() {
        String slices = "  - sources: [{model: a, layer_range: [0, 2]}]\n".repeat(513);
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class,
                () -> MergeConfig.parseYaml("merge_method: passthrough\nslices:\n" + slices));
        assertThat(e.problems()).containsExactly("slices: the layer ranges add up to 1026 output layers; at most 1024 are allowed");
        assertThat(MergeConfig.parseYaml("merge_method: passthrough\nslices:\n"
                + "  - sources: [{model: a, layer_range: [0, 2]}]\n".repeat(512)).slices()).hasSize(512);
    }

    @Test
    void nonFiniteParameterValuesAreRefusedEvenWhereTheRangeIsUnbounded() {
        MergeConfigException yaml = catchThrowableOfType(MergeConfigException.class, () -> MergeConfig.parseYaml("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: 1e400}
                  - model: b
                    parameters: {weight: [0, -1e400]}
                """));
        assertThat(yaml.problems()).containsExactly(
                "models[0] (a).parameters: parameter 'weight' must be a finite number, got Infinity",
                "models[1] (b).parameters: parameter 'weight' must be a finite number, got -Infinity");
        MergeConfigException json = catchThrowableOfType(MergeConfigException.class, () -> MergeConfig.parseJson("""
                {"merge_method": "slerp", "base_model": "a", "models": [{"model": "a"}, {"model": "b"}],
                 "parameters": {"t": 1e400}}"""));
        assertThat(json.problems()).containsExactly("parameters: parameter 't' must be a finite number, got Infinity");
        // YAML's own spellings do not get through either (the YAML reader refuses them)
        for (String spelled : java.util.List.of(".nan", ".inf", "-.inf")) {
            assertThatThrownBy(() -> MergeConfig.parseYaml("merge_method: linear\nmodels: [{model: a, parameters: {weight: "
                    + spelled + "}}]\n")).as(spelled).isInstanceOf(MergeConfigException.class);
        }
    }
}
