package dev.amalgam.merge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.amalgam.modelio.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Where mergekit's config (pydantic models read by PyYAML) is lenient, so is Amalgam: unknown keys and parameters
 * a method does not read are ignored and listed as warnings; anchors, aliases and merge keys are expanded;
 * numbers written as strings are numbers; {@code residual_weight}, {@code torch.}-prefixed and {@code int64}
 * dtypes are accepted. Where mergekit fails, Amalgam still does, with a clear problem.
 */
class MergekitLeniencyTest {

    @Test
    void unknownKeysAtEveryLevelAreIgnoredWithAWarning() {
        MergeConfig cfg = MergeConfig.parseYaml("""
                merge_method: linear
                comment: made by hand
                tokenizer: {source: base, colour: blue}
                models:
                  - model: a
                    note: first
                    parameters: {weight: [{filter: mlp, value: 1, why: because}, {value: 0.5}]}
                  - model: b
                    parameters: {weight: 1}
                """);
        assertThat(cfg.warnings()).anySatisfy(w -> assertThat(w).contains("unknown key 'comment' is ignored"))
                .anySatisfy(w -> assertThat(w).contains("unknown key 'tokenizer.colour' is ignored"))
                .anySatisfy(w -> assertThat(w).startsWith("models[0]: unknown key 'note' is ignored"))
                .anySatisfy(w -> assertThat(w).startsWith("models[0].parameters.weight[0]: unknown key 'why' is ignored"))
                .hasSize(4);
        assertThat(cfg.models().get(0).parameters().get("weight").evaluate("model.layers.0.mlp.up_proj.weight", 0))
                .isEqualTo(1.0);
        MergeConfig slices = MergeConfig.parseYaml("""
                merge_method: passthrough
                slices:
                  - sources: [{model: a, layer_range: [0, 2], extra: 1}]
                    label: first
                """);
        assertThat(slices.warnings()).anySatisfy(w -> assertThat(w).startsWith("slices[0]: unknown key 'label'"))
                .anySatisfy(w -> assertThat(w).startsWith("slices[0].sources[0]: unknown key 'extra'")).hasSize(2);
    }

    @Test
    void parametersAMethodDoesNotReadAreWarningsNotErrors() {
        for (String method : List.of("slerp", "sce", "model_stock", "karcher", "nearswap", "arcee_fusion")) {
            String global = method.equals("slerp") || method.equals("nearswap") ? "parameters: {t: 0.5}\n" : "";
            boolean two = method.equals("slerp") || method.equals("nearswap") || method.equals("arcee_fusion");
            MergeConfig cfg = MergeConfig.parseYaml("merge_method: " + method + "\nbase_model: a\n" + global
                    + "models:\n  - model: a\n  - model: b\n    parameters: {weight: 0.7}\n"
                    + (two ? "" : "  - model: c\n    parameters: {weight: 0.3}\n"));
            assertThat(cfg.warnings()).as(method).anySatisfy(w -> assertThat(w)
                    .startsWith("models[1] (b).parameters: parameter 'weight' is not used by " + method + " here"));
        }
        // a global parameter given per model is not read there either (mergekit reads globals without a model)
        MergeConfig slerp = MergeConfig.parseYaml("""
                merge_method: slerp
                base_model: a
                models: [{model: a}, {model: b, parameters: {t: 0.3}}]
                parameters: {t: 0.5, densty: 1}
                """);
        assertThat(slerp.warnings()).containsExactly(
                "parameters: parameter 'densty' is not used by slerp here and is ignored; used here: t",
                "models[1] (b).parameters: parameter 't' is not used by slerp here and is ignored; used here: none");
        // a parameter the method reads is still checked
        assertThatThrownBy(() -> MergeConfig.parseYaml("""
                merge_method: ties
                base_model: a
                models: [{model: b, parameters: {weight: 1, density: 2}}]
                """)).isInstanceOf(MergeConfigException.class).hasMessageContaining("'density' = 2.0 is out of range");
    }

    @Test
    void anchorsAliasesAndMergeKeysAreExpanded() {
        MergeConfig cfg = MergeConfig.parseYaml("""
                x-common: &common {weight: 0.5, density: 0.4}
                merge_method: ties
                base_model: &base ./base
                models:
                  - model: *base
                  - model: ./math
                    parameters: *common
                  - model: ./code
                    parameters:
                      <<: *common
                      density: 0.9
                  - model: ./chat
                    parameters:
                      <<: [{weight: 0.1}, *common]
                """);
        assertThat(cfg.baseModel()).isEqualTo("./base");
        assertThat(cfg.models().get(0).model()).isEqualTo("./base");
        assertThat(values(cfg.models().get(1))).isEqualTo(Map.of("weight", 0.5, "density", 0.4));
        assertThat(values(cfg.models().get(2))).isEqualTo(Map.of("weight", 0.5, "density", 0.9));
        // of merged mappings the earlier wins (PyYAML): weight from the first, density from the second
        assertThat(values(cfg.models().get(3))).isEqualTo(Map.of("weight", 0.1, "density", 0.4));
        assertThat(cfg.warnings()).containsExactly("unknown key 'x-common' is ignored (as mergekit does); known: "
                + "base_model, chat_template, dtype, merge_method, models, modules, out_dtype, parameters, slices, tokenizer,"
                + " tokenizer_source");
    }

    @Test
    void yamlBombsAndRecursiveAliasesAreRefused() {
        StringBuilder laughs = new StringBuilder("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (char n = 'b'; n <= 'j'; n++) {
            char p = (char) (n - 1);
            laughs.append(n).append(": &").append(n).append(" [").append(("*" + p + ", ").repeat(8)).append('*')
                    .append(p).append("]\n");
        }
        laughs.append("merge_method: linear\nmodels: [{model: a, parameters: {weight: 1}}]\n");
        assertThatThrownBy(() -> MergeConfig.parseYaml(laughs.toString())).isInstanceOf(MergeConfigException.class)
                .hasMessageContaining("not valid YAML").hasMessageContaining("200000 nodes");
        for (String[] brackets : new String[][]{{"[", "]"}, {"{a: ", "}"}}) {
            String deep = "merge_method: linear\nmodels: " + brackets[0].repeat(10_000) + brackets[1].repeat(10_000) + "\n";
            assertThatThrownBy(() -> MergeConfig.parseYaml(deep)).isInstanceOf(MergeConfigException.class)
                    .hasMessageContaining("nested deeper than 100 levels");
        }
        StringBuilder manyAliases = new StringBuilder("merge_method: linear\nx: &x {weight: 1}\nmodels:\n");
        manyAliases.append("  - {model: tiny, parameters: *x}\n".repeat(5_000));
        assertThatThrownBy(() -> MergeConfig.parseYaml(manyAliases.toString())).isInstanceOf(MergeConfigException.class)
                .hasMessageContaining("not valid YAML");
        for (String bad : List.of("---\na: 1\n---\nb: 2\n", "merge_method: *undefined\n", "? [a, b]\n: c\n",
                "merge_method: !!java.lang.Runtime linear\n", "a: &a {<<: *a}\n", "a: &a [{<<: *a}]\n", "%YAML 9.9\n---\na: 1\n", "merge_method: \"\\0\\uD800\"\n")) {
            assertThatThrownBy(() -> MergeConfig.parseYaml(bad)).as(bad).isInstanceOf(MergeConfigException.class);
        }
        assertThatThrownBy(() -> MergeConfig.parseYaml("merge_method: linear\nmodels: &m [*m]\n"))
                .isInstanceOf(MergeConfigException.class).hasMessageContaining("recursive alias");
        assertThatThrownBy(() -> MergeConfig.parseYaml("merge_method: !!binary bGluZWFy\nmodels: [a]\n"))
                .isInstanceOf(MergeConfigException.class).hasMessageContaining("line 1: unsupported YAML tag");
        assertThatThrownBy(() -> MergeConfig.parseYaml("merge_method: linear\nmodels:\n  - model: a\n    parameters:\n"
                        + "      <<: 3\n")).isInstanceOf(MergeConfigException.class)
                .hasMessageContaining("not valid YAML").hasMessageContaining("mapping").hasMessageContaining("line 6");
    }

    @Test
    void numbersWrittenAsStringsAreNumbersAsPydanticCoercesThem() {
        MergeConfig cfg = MergeConfig.parseYaml("""
                merge_method: linear
                slices:
                  - sources:
                      - model: a
                        layer_range: ["0", 2.0]
                        parameters: {weight: "0.25"}
                      - model: b
                        layer_range: [0, "2"]
                        parameters: {weight: ["0", " 1e-1 "]}
                parameters: {normalize: 0}
                """);
        assertThat(cfg.parameters().get("normalize")).isEqualTo(new ParameterSetting.Scalar(0.0));
        // PyYAML's yes/no/on/off are booleans
        MergeConfig yes = MergeConfig.parseYaml("merge_method: linear\nmodels: [{model: a, parameters: {weight: 1}}]\n"
                + "parameters: {normalize: no}\n");
        assertThat(yes.parameters().get("normalize")).isEqualTo(new ParameterSetting.Scalar(false));
        SliceSource a = cfg.slices().get(0).sources().get(0);
        assertThat(a.layerStart()).isZero();
        assertThat(a.layerEnd()).isEqualTo(2);
        assertThat(a.parameters().get("weight")).isEqualTo(new ParameterSetting.Scalar(0.25));
        assertThat(cfg.slices().get(0).sources().get(1).parameters().get("weight"))
                .isEqualTo(new ParameterSetting.Gradient(List.of(0.0, 0.1)));
        // a number for a boolean, as mergekit reads every parameter as a float: 0 is false
        assertThat(cfg.warnings()).isEmpty();
        // what pydantic refuses stays refused
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> MergeConfig.parseYaml("""
                merge_method: passthrough
                slices: [{sources: [{model: a, layer_range: ["0", 2.5]}]}]
                """));
        assertThat(e.problems()).contains("slices[0].sources[0].layer_range must be [start, end] with integers");
        assertThatThrownBy(() -> MergeConfig.parseYaml("merge_method: linear\nmodels: [{model: a, parameters: {weight: "
                + "\"half\"}}]\n")).isInstanceOf(MergeConfigException.class).hasMessageContaining("must be a number");
    }

    @Test
    void residualWeightIsReadAndIgnoredAsInMergekit() {
        MergeConfig cfg = MergeConfig.parseYaml("""
                merge_method: passthrough
                slices:
                  - sources: [{model: a, layer_range: [0, 2]}]
                    residual_weight: 0.5
                """);
        assertThat(cfg.warnings()).containsExactly(
                "slices[0].residual_weight is ignored (mergekit reads it but does not use it)");
        assertThatThrownBy(() -> MergeConfig.parseYaml("""
                merge_method: passthrough
                slices: [{sources: [{model: a, layer_range: [0, 2]}], residual_weight: lots}]
                """)).isInstanceOf(MergeConfigException.class)
                .hasMessageContaining("slices[0].residual_weight must be a number");
    }

    @Test
    void torchPrefixedAndInt64DtypeNamesAreAccepted() {
        assertThat(DtypeNames.parse("torch.bfloat16")).isEqualTo(DType.BF16);
        assertThat(DtypeNames.parse("torch.float16")).isEqualTo(DType.F16);
        assertThat(DtypeNames.parse("torch.float32")).isEqualTo(DType.F32);
        assertThat(DtypeNames.parse("int64")).isEqualTo(DType.I64);
        assertThat(DtypeNames.parse("torch.int64")).isEqualTo(DType.I64);
        assertThat(DtypeNames.torchName(DType.I64)).isEqualTo("int64");
        MergeConfig cfg = MergeConfig.parseYaml("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}]
                dtype: torch.bfloat16
                out_dtype: torch.int64
                """);
        assertThat(cfg.dtype()).isEqualTo("torch.bfloat16");
        assertThatThrownBy(() -> MergeConfig.parseYaml("merge_method: linear\nmodels: [{model: a, parameters: {weight: 1}}]\n"
                + "dtype: int8\n")).isInstanceOf(MergeConfigException.class).hasMessageContaining("dtype 'int8'");
    }

    @Test
    void nearswapAcceptsTAtOrBelowZero() {
        for (String t : List.of("0", "-0.5")) {
            MergeConfig cfg = MergeConfig.parseYaml("merge_method: nearswap\nbase_model: a\nmodels: [{model: a}, {model: b}]\n"
                    + "parameters: {t: " + t + "}\n");
            assertThat(cfg.validate()).as(t).isEmpty();
        }
    }

    private static Map<String, Object> values(InputModel m) {
        Map<String, Object> v = new java.util.HashMap<>();
        m.parameters().forEach((k, s) -> v.put(k, s.evaluate("x", 0)));
        return v;
    }
}
