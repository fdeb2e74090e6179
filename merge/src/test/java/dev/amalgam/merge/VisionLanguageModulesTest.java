package dev.amalgam.merge;

import static dev.amalgam.merge.ModuleMergeReference.assertClose;
import static dev.amalgam.merge.ModuleMergeReference.linear;
import static dev.amalgam.merge.ModuleMergeReference.tensors;
import static dev.amalgam.merge.ModuleMergeReference.ties;
import static dev.amalgam.merge.TinyVisionLanguageCheckpoint.V;
import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.job.Progress;
import dev.amalgam.merge.ModuleMergeReference.Stack;
import dev.amalgam.merge.config.MergeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The vision-language families ported from mergekit's modular definitions (Mistral 3, Gemma 3, Qwen2-VL,
 * Qwen2.5-VL, Qwen3-VL dense and MoE, Llama 4), merged through the normal runner as mergekit merges them: every
 * module (text decoder, vision tower, projector) from all the models with the config's method, each layer stack
 * with its own gradient position. The checkpoints carry the Hub's tensor names, spelled out in
 * {@link TinyVisionLanguageCheckpoint} (not read from the family files), and every expected tensor is computed here.
 */
class VisionLanguageModulesTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int TEXT = 2;
    private static final int VISION = 3;

    @TempDir
    Path dir;

    /**
     * One family's tiny checkpoint.
     *
     * @param name    what the case is called
     * @param config  config.json
     * @param tensors every tensor of the checkpoint, name to shape
     * @param stacks  its layer stacks (for each tensor's gradient position)
     * @param layers  config values the output must have, by JSON pointer (each module's layer count)
     * @param absent  JSON pointers the output config must not have
     */
    record Family(String name, Map<String, Object> config, Map<String, long[]> tensors, List<Stack> stacks,
                  Map<String, Integer> layers, List<String> absent) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Family> families() {
        return Stream.of(
                new Family("mistral3", Map.of("architectures", List.of("Mistral3ForConditionalGeneration"),
                        "model_type", "mistral3",
                        "text_config", Map.of("model_type", "mistral", "num_hidden_layers", TEXT, "vocab_size", V),
                        "vision_config", Map.of("model_type", "pixtral", "num_hidden_layers", VISION)),
                        TinyVisionLanguageCheckpoint.mistral3(TEXT, VISION),
                        List.of(Stack.of("^language_model\\.model\\.layers\\.(\\d+)\\.", TEXT),
                                Stack.of("^vision_tower\\.transformer\\.layers\\.(\\d+)\\.", VISION)),
                        Map.of("/text_config/num_hidden_layers", TEXT, "/vision_config/num_hidden_layers", VISION,
                                "/text_config/vocab_size", V), List.of()),
                new Family("gemma3vl (tied head)", Map.of("architectures", List.of("Gemma3ForConditionalGeneration"),
                        "model_type", "gemma3",
                        "text_config", Map.of("model_type", "gemma3_text", "num_hidden_layers", TEXT, "vocab_size", V),
                        "vision_config", Map.of("model_type", "siglip_vision_model", "num_hidden_layers", VISION)),
                        TinyVisionLanguageCheckpoint.gemma3(TEXT, VISION),
                        List.of(Stack.of("^language_model\\.model\\.layers\\.(\\d+)\\.", TEXT),
                                Stack.of("^vision_tower\\.vision_model\\.encoder\\.layers\\.(\\d+)\\.", VISION)),
                        Map.of("/text_config/num_hidden_layers", TEXT, "/vision_config/num_hidden_layers", VISION,
                                "/text_config/vocab_size", V), List.of()),
                new Family("qwen2_vl", Map.of("architectures", List.of("Qwen2VLForConditionalGeneration"),
                        "model_type", "qwen2_vl", "num_hidden_layers", TEXT, "vocab_size", V, "hidden_size", 8,
                        "vision_config", Map.of("depth", VISION)),
                        TinyVisionLanguageCheckpoint.qwen2Vl(TEXT, VISION, false, false),
                        // the merger's mlp.0 / mlp.2 are planned once, at the first of its two fixed layers: t = 0
                        List.of(Stack.of("^model\\.layers\\.(\\d+)\\.", TEXT), Stack.of("^visual\\.blocks\\.(\\d+)\\.", VISION)),
                        Map.of("/num_hidden_layers", TEXT, "/vision_config/depth", VISION, "/vocab_size", V), List.of()),
                // the Hub's Qwen2.5-VL config.json has no text_config: the text layers are counted by tensor name
                new Family("qwen2_5_vl (tied head)", Map.of("architectures", List.of("Qwen2_5_VLForConditionalGeneration"),
                        "model_type", "qwen2_5_vl", "num_hidden_layers", TEXT, "vocab_size", V, "hidden_size", 8,
                        "tie_word_embeddings", true, "vision_config", Map.of("depth", VISION)),
                        TinyVisionLanguageCheckpoint.qwen2Vl(TEXT, VISION, true, true),
                        List.of(Stack.of("^model\\.layers\\.(\\d+)\\.", TEXT), Stack.of("^visual\\.blocks\\.(\\d+)\\.", VISION)),
                        Map.of("/num_hidden_layers", TEXT, "/vision_config/depth", VISION, "/vocab_size", V),
                        List.of("/text_config")),
                new Family("qwen3_vl_dense", Map.of("architectures", List.of("Qwen3VLForConditionalGeneration"),
                        "model_type", "qwen3_vl",
                        "text_config", Map.of("model_type", "qwen3_vl_text", "num_hidden_layers", TEXT, "vocab_size", V),
                        "vision_config", Map.of("depth", VISION, "deepstack_visual_indexes", List.of(0, 1, 2))),
                        TinyVisionLanguageCheckpoint.qwen3Vl(TEXT, VISION, 3, 0), qwen3Stacks(),
                        Map.of("/text_config/num_hidden_layers", TEXT, "/vision_config/depth", VISION,
                                "/text_config/vocab_size", V), List.of()),
                new Family("qwen3_vl (MoE)", Map.of("architectures", List.of("Qwen3VLMoeForConditionalGeneration"),
                        "model_type", "qwen3_vl_moe", "vocab_size", V,
                        "text_config", Map.of("model_type", "qwen3_vl_moe_text", "num_hidden_layers", TEXT,
                                "vocab_size", V, "num_experts", 2),
                        "vision_config", Map.of("depth", VISION, "deepstack_visual_indexes", List.of(0, 1, 2))),
                        TinyVisionLanguageCheckpoint.qwen3Vl(TEXT, VISION, 3, 2), qwen3Stacks(),
                        Map.of("/text_config/num_hidden_layers", TEXT, "/vision_config/depth", VISION, "/vocab_size", V),
                        List.of()),
                new Family("llama4 (dense and MoE layers)", Map.of("architectures", List.of("Llama4ForConditionalGeneration"),
                        "model_type", "llama4",
                        "text_config", Map.of("model_type", "llama4_text", "num_hidden_layers", TEXT, "vocab_size", V,
                                "num_local_experts", 2),
                        "vision_config", Map.of("model_type", "llama4_vision_model", "num_hidden_layers", VISION)),
                        TinyVisionLanguageCheckpoint.llama4(TEXT, VISION, 2),
                        List.of(Stack.of("^language_model\\.model\\.layers\\.(\\d+)\\.", TEXT),
                                Stack.of("^vision_model\\.model\\.layers\\.(\\d+)\\.", VISION)),
                        Map.of("/text_config/num_hidden_layers", TEXT, "/vision_config/num_hidden_layers", VISION,
                                "/text_config/vocab_size", V), List.of()));
    }

    private static List<Stack> qwen3Stacks() {
        return List.of(Stack.of("^model\\.language_model\\.layers\\.(\\d+)\\.", TEXT),
                Stack.of("^model\\.visual\\.blocks\\.(\\d+)\\.", VISION),
                Stack.of("^model\\.visual\\.deepstack_merger_list\\.(\\d+)\\.", 3));
    }

    private void write(Family f) {
        TinyCheckpoint.write(dir.resolve("c"), f.config(), f.tensors(), V, 5, 0);
        TinyCheckpoint.write(dir.resolve("a"), f.config(), f.tensors(), V, 5, 1);
        TinyCheckpoint.write(dir.resolve("b"), f.config(), f.tensors(), V, 5, 2);
    }

    private MergeResult run(String yaml, String out) {
        return new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(dir), dir.resolve(out),
                MergeOptions.defaults().withThreads(2), Progress.NONE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void linearMergesEveryModuleWithTheGradientAtEachLayersPlaceInItsOwnStack(Family f) {
        write(f);
        MergeResult r = run("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: [1, 3]}
                  - model: b
                    parameters: {weight: 1}
                dtype: float32
                """, "linear");
        Map<String, float[]> a = tensors(dir.resolve("a"));
        Map<String, float[]> b = tensors(dir.resolve("b"));
        Map<String, float[]> got = tensors(r.outDir());
        assertThat(got.keySet()).isEqualTo(f.tensors().keySet());
        for (String n : got.keySet()) {
            double wa = 1 + 2 * ModuleMergeReference.t(n, f.stacks()); // the gradient [1, 3] at the tensor's place
            assertClose(got.get(n), linear(List.of(a.get(n), b.get(n)), new double[]{wa, 1}), n);
        }
        assertThat(r.warnings()).noneMatch(w -> w.contains("inferred") || w.contains("not written"));
        assertThat(r.numLayers()).isEqualTo(TEXT);
        JsonNode cfg = JSON.readTree(r.outDir().resolve("config.json").toFile());
        f.layers().forEach((pointer, want) -> assertThat(cfg.at(pointer).intValue()).as(pointer).isEqualTo(want));
        f.absent().forEach(pointer -> assertThat(cfg.at(pointer).isMissingNode()).as(pointer).isTrue());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void tiesMergesEveryModuleAgainstTheBase(Family f) {
        write(f);
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
        Map<String, float[]> a = tensors(dir.resolve("a"));
        Map<String, float[]> b = tensors(dir.resolve("b"));
        Map<String, float[]> c = tensors(dir.resolve("c"));
        Map<String, float[]> got = tensors(r.outDir());
        assertThat(got.keySet()).isEqualTo(f.tensors().keySet());
        for (String n : got.keySet()) {
            assertClose(got.get(n), ties(c.get(n), List.of(a.get(n), b.get(n)), new double[]{0.6, 0.4}, 0.5), n);
            assertThat(got.get(n)).as(n + " differs from the base").isNotEqualTo(c.get(n));
        }
    }

    @Test
    void tagalongFilesComeFromTheBaseModelAfterTheTokenizerSourcesFiles() throws IOException {
        Family qwen = families().filter(f -> f.name().equals("qwen2_vl")).findFirst().orElseThrow();
        write(qwen);
        for (String m : List.of("a", "b", "c")) {
            Files.writeString(dir.resolve(m).resolve("preprocessor_config.json"), "{\"from\": \"" + m + "\"}");
            Files.writeString(dir.resolve(m).resolve("vocab.json"), "{\"v_" + m + "\": 0}");
            Files.writeString(dir.resolve(m).resolve("merges.txt"), "#version: " + m + "\n");
        }
        MergeResult r = run("""
                merge_method: task_arithmetic
                base_model: c
                models: [{model: a, parameters: {weight: 0.5}}, {model: b, parameters: {weight: 0.5}}]
                tokenizer_source: a
                """, "tagalong");
        // mergekit copies qwen2_vl's tagalong files (preprocessor_config.json, vocab.json) from the base model
        // last; the other tokenizer files are the tokenizer source's
        assertThat(Files.readString(r.outDir().resolve("preprocessor_config.json"))).contains("\"c\"");
        assertThat(Files.readString(r.outDir().resolve("vocab.json"))).contains("v_c");
        assertThat(Files.readString(r.outDir().resolve("merges.txt"))).contains("version: a");
    }
}
