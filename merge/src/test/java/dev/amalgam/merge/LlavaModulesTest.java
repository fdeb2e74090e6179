package dev.amalgam.merge;

import static dev.amalgam.merge.ModuleMergeReference.assertClose;
import static dev.amalgam.merge.ModuleMergeReference.linear;
import static dev.amalgam.merge.ModuleMergeReference.tensors;
import static dev.amalgam.merge.ModuleMergeReference.ties;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.job.Progress;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Llava merged as mergekit merges it: every module (the language model's layers, the vision encoder's layers, and
 * the weights outside both: embeddings, norms, head, vision embeddings, projector) with the config's method, each
 * layer stack with its own layer index. The checkpoints are written from names spelled out here (not read from the
 * family file), and every expected tensor is computed here from mergekit's formulas.
 */
class LlavaModulesTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int TEXT_LAYERS = 2;
    private static final int VISION_LAYERS = 3;
    private static final String TEXT_LAYER_NAME = "^language_model\\.model\\.layers\\.(\\d+)\\.";
    private static final String VISION_LAYER_NAME = "^vision_tower\\.vision_model\\.encoder\\.layers\\.(\\d+)\\.";
    private static final Pattern TEXT_LAYER = Pattern.compile(TEXT_LAYER_NAME);
    private static final Pattern VISION_LAYER = Pattern.compile(VISION_LAYER_NAME);
    private static final List<ModuleMergeReference.Stack> STACKS = List.of(
            ModuleMergeReference.Stack.of(TEXT_LAYER_NAME, TEXT_LAYERS),
            ModuleMergeReference.Stack.of(VISION_LAYER_NAME, VISION_LAYERS));
    private static final String STALE = "vision_tower.vision_model.embeddings.position_ids";

    @TempDir
    static Path dir;

    @BeforeAll
    static void models() {
        int h = 8;
        int v = 16;
        Map<String, long[]> t = new LinkedHashMap<>();
        t.put("language_model.model.embed_tokens.weight", new long[]{v, h});
        for (int l = 0; l < TEXT_LAYERS; l++) {
            String p = "language_model.model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", new long[]{h});
            for (String proj : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                t.put(p + "self_attn." + proj + ".weight", new long[]{h, h});
            }
            t.put(p + "post_attention_layernorm.weight", new long[]{h});
            t.put(p + "mlp.gate_proj.weight", new long[]{12, h});
            t.put(p + "mlp.up_proj.weight", new long[]{12, h});
            t.put(p + "mlp.down_proj.weight", new long[]{h, 12});
        }
        t.put("language_model.model.norm.weight", new long[]{h});
        t.put("language_model.lm_head.weight", new long[]{v, h});
        t.putAll(TinyLlavaCheckpoint.visionAndProjector(6, 10, VISION_LAYERS, 2, 5, h));
        t.put(STALE, new long[]{1, 5}); // a buffer older checkpoints store: not a weight of the layout
        Map<String, Object> config = Map.of("architectures", List.of("LlavaForConditionalGeneration"),
                "model_type", "llava",
                "text_config", Map.of("model_type", "llama", "num_hidden_layers", TEXT_LAYERS, "vocab_size", v,
                        "hidden_size", h),
                "vision_config", Map.of("model_type", "clip_vision_model", "num_hidden_layers", VISION_LAYERS,
                        "hidden_size", 6));
        TinyCheckpoint.write(dir.resolve("c"), config, t, v, 5, 0);
        TinyCheckpoint.write(dir.resolve("a"), config, t, v, 5, 1);
        TinyCheckpoint.write(dir.resolve("b"), config, t, v, 5, 2);
    }

    private static MergeResult run(String yaml, String out) {
        return new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(dir), dir.resolve(out),
                MergeOptions.defaults().withThreads(2), Progress.NONE);
    }

    /** A layer's gradient position within its own stack (mergekit: idx / (layers - 1) per module); 0 outside layers. */
    private static double t(String name) {
        return ModuleMergeReference.t(name, STACKS);
    }

    private static Map<String, float[]> inputsWithout(Path model) {
        Map<String, float[]> x = tensors(model);
        x.remove(STALE);
        return x;
    }

    @Test
    void linearMergesTheVisionTowerAndTheProjectorWithLayerGradientsPerModule() {
        MergeResult r = run("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: [1, 3]}
                  - model: b
                    parameters: {weight: 1}
                dtype: float32
                """, "linear");
        Map<String, float[]> a = inputsWithout(dir.resolve("a"));
        Map<String, float[]> b = inputsWithout(dir.resolve("b"));
        Map<String, float[]> got = tensors(r.outDir());
        assertThat(got.keySet()).isEqualTo(a.keySet());
        for (String n : got.keySet()) {
            double wa = 1 + 2 * t(n); // the gradient [1, 3] at the layer's place in its own stack
            double[] want = new double[a.get(n).length];
            for (int i = 0; i < want.length; i++) {
                want[i] = (wa * a.get(n)[i] + b.get(n)[i]) / (wa + 1);
            }
            assertClose(got.get(n), want, n);
        }
        // the vision layers ran 1, 2, 3: the middle one is not the language model's end point
        assertThat(t("vision_tower.vision_model.encoder.layers.1.mlp.fc1.weight")).isEqualTo(0.5);
        assertThat(r.numLayers()).isEqualTo(TEXT_LAYERS);
        assertThat(r.warnings()).anyMatch(w -> w.startsWith("1 tensors of 'a'") && w.contains(STALE));
        JsonNode cfg = readConfig(r.outDir());
        assertThat(cfg.at("/text_config/num_hidden_layers").intValue()).isEqualTo(TEXT_LAYERS);
        assertThat(cfg.at("/vision_config/num_hidden_layers").intValue()).isEqualTo(VISION_LAYERS);
        assertThat(cfg.at("/text_config/vocab_size").intValue()).isEqualTo(16);
    }

    @Test
    void tiesMergesEveryModuleAgainstTheBase() {
        MergeResult r = run("""
                merge_method: ties
                base_model: c
                models:
                  - model: a
                    parameters: {weight: 0.6, density: 0.5}
                  - model: b
                    parameters: {weight: 0.4, density: 0.5}
                dtype: float32
                """, "ties");
        Map<String, float[]> a = inputsWithout(dir.resolve("a"));
        Map<String, float[]> b = inputsWithout(dir.resolve("b"));
        Map<String, float[]> c = inputsWithout(dir.resolve("c"));
        Map<String, float[]> got = tensors(r.outDir());
        assertThat(got.keySet()).isEqualTo(c.keySet());
        for (String n : got.keySet()) {
            assertClose(got.get(n), ties(c.get(n), List.of(a.get(n), b.get(n)), new double[]{0.6, 0.4}, 0.5), n);
            assertThat(got.get(n)).as(n + " differs from the base").isNotEqualTo(c.get(n));
        }
    }

    @Test
    void topLevelSlicesAreRefusedForAFamilyOfSeveralModules() {
        assertThatThrownBy(() -> run("""
                merge_method: passthrough
                slices:
                  - sources: [{model: a, layer_range: [0, 2]}]
                """, "slices"))
                .isInstanceOf(MergeConfigException.class)
                .hasMessageContaining("has 3 modules")
                .hasMessageContaining("language_model.model.layers, vision_tower.vision_model.encoder.layers, default")
                .hasMessageContaining("use models");
    }

    @Test
    void theModulesFormMergesEachModuleFromItsOwnEntryWithModuleParametersBetweenSliceAndTopLevel() {
        // the language model a frankenmerge (a's 2 layers, then b's layer 1 mixed with a's layer 0), the vision
        // tower and the rest linear with module-level weights; lookup order: source, slice, module, top level
        MergeResult r = run("""
                merge_method: linear
                parameters: {weight: 1}
                modules:
                  language_model.model.layers:
                    slices:
                      - sources: [{model: a, layer_range: [0, 2]}]
                      - sources:
                          - {model: b, layer_range: [1, 2]}
                          - {model: a, layer_range: [0, 1], parameters: {weight: 3}}
                  vision_tower.vision_model.encoder.layers:
                    parameters: {weight: [1, 3]}
                    models: [{model: a}, {model: b, parameters: {weight: 1}}]
                  default:
                    parameters: {weight: 2}
                    models: [{model: a}, {model: b, parameters: {weight: 1}}]
                dtype: float32
                """, "modules");
        Map<String, float[]> a = inputsWithout(dir.resolve("a"));
        Map<String, float[]> b = inputsWithout(dir.resolve("b"));
        Map<String, float[]> got = tensors(r.outDir());
        Map<String, double[]> want = new TreeMap<>();
        for (String n : a.keySet()) {
            Matcher text = TEXT_LAYER.matcher(n);
            if (text.find()) {
                String rest = n.substring(text.end());
                for (int out = 0; out < 3; out++) {
                    String o = "language_model.model.layers." + out + "." + rest;
                    if (out < 2) {
                        want.put(o, linear(List.of(a.get("language_model.model.layers." + out + "." + rest)),
                                new double[]{1}));
                    } else {
                        want.put(o, linear(List.of(a.get("language_model.model.layers.0." + rest),
                                b.get("language_model.model.layers.1." + rest)), new double[]{3, 1}));
                    }
                }
            } else if (VISION_LAYER.matcher(n).find()) {
                want.put(n, linear(List.of(a.get(n), b.get(n)), new double[]{1 + 2 * t(n), 1}));
            } else {
                want.put(n, linear(List.of(a.get(n), b.get(n)), new double[]{2, 1}));
            }
        }
        assertThat(got.keySet()).isEqualTo(want.keySet());
        want.forEach((n, w) -> assertClose(got.get(n), w, n));
        JsonNode cfg = readConfig(r.outDir());
        assertThat(cfg.at("/text_config/num_hidden_layers").intValue()).isEqualTo(3);
        assertThat(cfg.at("/vision_config/num_hidden_layers").intValue()).isEqualTo(VISION_LAYERS);
        assertThat(r.numLayers()).isEqualTo(3);
    }

    @Test
    void aModuleLeftOutOfTheModulesFormIsNotWrittenAndAnAliasNamesAModule() {
        MergeResult r = run("""
                merge_method: linear
                modules:
                  model.language_model.layers:
                    models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 1}}]
                  default:
                    models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 1}}]
                dtype: float32
                """, "partial");
        Map<String, float[]> got = tensors(r.outDir());
        assertThat(got).isNotEmpty();
        assertThat(got.keySet()).noneMatch(n -> VISION_LAYER.matcher(n).find())
                .anyMatch(n -> TEXT_LAYER.matcher(n).find())
                .contains("language_model.model.embed_tokens.weight", "multi_modal_projector.linear_1.weight");
        assertThat(r.warnings()).anyMatch(w -> w.contains("vision_tower.vision_model.encoder.layers is not listed")
                && w.contains("none of its tensors are written"));
        // the left-out module's layer count stays the reference model's
        assertThat(readConfig(r.outDir()).at("/vision_config/num_hidden_layers").intValue()).isEqualTo(VISION_LAYERS);
    }

    @Test
    void theModulesFormReportsUnknownAndTwiceGivenModulesAndEntriesWithoutOneForm() {
        assertThatThrownBy(() -> run("""
                merge_method: linear
                modules:
                  vision:
                    models: [{model: a, parameters: {weight: 1}}]
                  language_model.model.layers:
                    models: [{model: a, parameters: {weight: 1}}]
                  model.language_model.layers:
                    models: [{model: b, parameters: {weight: 1}}]
                """, "bad-modules"))
                .isInstanceOf(MergeConfigException.class)
                .hasMessageContaining("modules.vision: 'a' (LlavaForConditionalGeneration, family llava.json) has no"
                        + " module 'vision'; its modules: language_model.model.layers,"
                        + " vision_tower.vision_model.encoder.layers, default")
                .hasMessageContaining("modules.model.language_model.layers: module 'language_model.model.layers' is"
                        + " already given as modules.language_model.model.layers");
        assertThatThrownBy(() -> MergeConfig.parseYaml("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}]
                modules:
                  default:
                    models: [{model: a, parameters: {weight: 1}}]
                    slices: [{sources: [{model: a, layer_range: [0, 2]}]}]
                """))
                .isInstanceOf(MergeConfigException.class)
                .hasMessageContaining("exactly one of 'models', 'slices' or 'modules' must be given")
                .hasMessageContaining("modules.default: give exactly one of 'models' or 'slices'");
    }

    private static JsonNode readConfig(Path out) {
        return JSON.readTree(out.resolve("config.json").toFile());
    }
}
