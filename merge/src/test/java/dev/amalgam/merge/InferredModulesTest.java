package dev.amalgam.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.amalgam.job.Progress;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A two-stack model of an architecture no family file names (a text decoder under {@code text_model.layers.N.}, a
 * vision encoder under {@code vision_model.encoder.layers.N.}, and weights outside both), merged as mergekit's
 * {@code infer_architecture_info} lays it out: one module per layer stack, named by its prefix, each with its own
 * layer index from 0, and a {@code default} module of the other weights. The names are spelled out here and every
 * expected tensor is computed here from mergekit's linear formula.
 */
class InferredModulesTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int H = 8;
    private static final int V = 16;
    private static final int TEXT_LAYERS = 2;
    private static final int VISION_LAYERS = 3;
    private static final String ARCH = "PicoVisionLanguageModel";
    private static final Pattern TEXT_LAYER = Pattern.compile("^text_model\\.layers\\.(\\d+)\\.");
    private static final Pattern VISION_LAYER = Pattern.compile("^vision_model\\.encoder\\.layers\\.(\\d+)\\.");

    @TempDir
    static Path dir;

    /** The tensors of a model with the given stacks' depths (0: the stack is absent). */
    private static Map<String, long[]> tensors(int textLayers, int visionLayers) {
        Map<String, long[]> t = new LinkedHashMap<>();
        t.put("text_model.embed_tokens.weight", new long[]{V, H});
        for (int l = 0; l < textLayers; l++) {
            String p = "text_model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", new long[]{H});
            t.put(p + "self_attn.q_proj.weight", new long[]{H, H});
            t.put(p + "mlp.up_proj.weight", new long[]{12, H});
        }
        t.put("text_model.norm.weight", new long[]{H});
        t.put("lm_head.weight", new long[]{V, H});
        t.put("vision_model.embeddings.patch_embedding.weight", new long[]{6, 3, 2, 2});
        t.put("vision_model.embeddings.position_embedding.weight", new long[]{5, 6});
        for (int l = 0; l < visionLayers; l++) {
            String p = "vision_model.encoder.layers." + l + ".";
            t.put(p + "layer_norm1.bias", new long[]{6});
            t.put(p + "self_attn.k_proj.weight", new long[]{6, 6});
            t.put(p + "mlp.fc1.weight", new long[]{10, 6});
        }
        t.put("vision_model.post_layernorm.weight", new long[]{6});
        t.put("projector.linear.weight", new long[]{H, 6});
        return t;
    }

    private static Map<String, Object> config() {
        return Map.of("architectures", List.of(ARCH), "model_type", "pico_vlm", "vocab_size", V,
                "text_config", Map.of("num_hidden_layers", TEXT_LAYERS, "hidden_size", H),
                "vision_config", Map.of("num_hidden_layers", VISION_LAYERS, "hidden_size", 6));
    }

    @BeforeAll
    static void models() {
        TinyCheckpoint.write(dir.resolve("a"), config(), tensors(TEXT_LAYERS, VISION_LAYERS), V, 7, 1);
        TinyCheckpoint.write(dir.resolve("b"), config(), tensors(TEXT_LAYERS, VISION_LAYERS), V, 7, 2);
        TinyCheckpoint.write(dir.resolve("shallow"), config(), tensors(TEXT_LAYERS, 2), V, 7, 3);
        TinyCheckpoint.write(dir.resolve("blind"), config(), tensors(TEXT_LAYERS, 0), V, 7, 4);
    }

    private static MergeResult run(String yaml, String out) {
        return new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(dir), dir.resolve(out),
                MergeOptions.defaults().withThreads(2), Progress.NONE);
    }

    /** mergekit's gradient position: layer / (layers - 1) within the layer's own stack; 0 outside the layers. */
    private static double t(String name) {
        return ModuleMergeReference.t(name, List.of(new ModuleMergeReference.Stack(TEXT_LAYER, TEXT_LAYERS),
                new ModuleMergeReference.Stack(VISION_LAYER, VISION_LAYERS)));
    }

    @Test
    void linearWithALayerGradientMergesEveryStackWithItsOwnLayerIndex() throws Exception {
        MergeResult r = run("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: [1, 3]}
                  - model: b
                    parameters: {weight: 1}
                dtype: float32
                """, "linear");
        Map<String, float[]> a = ModuleMergeReference.tensors(dir.resolve("a"));
        Map<String, float[]> b = ModuleMergeReference.tensors(dir.resolve("b"));
        Map<String, float[]> got = ModuleMergeReference.tensors(r.outDir());
        assertThat(got.keySet()).isEqualTo(a.keySet());
        for (String n : got.keySet()) {
            double wa = 1 + 2 * t(n); // the gradient [1, 3] at the layer's place in its own stack
            ModuleMergeReference.assertClose(got.get(n), ModuleMergeReference.linear(List.of(a.get(n), b.get(n)),
                    new double[]{wa, 1}), n, 1e-6);
        }
        // the middle vision layer sits at t = 0.5 of its stack, not at the text stack's end point
        assertThat(t("vision_model.encoder.layers.1.mlp.fc1.weight")).isEqualTo(0.5);
        assertThat(r.numLayers()).isEqualTo(TEXT_LAYERS); // the first stack's, in prefix order
        assertThat(r.vocabSize()).isEqualTo(V);
        assertThat(r.warnings()).anyMatch(w -> w.contains("'" + ARCH + "' has no family file")
                && w.contains("3 modules: 'text_model.layers' (2 layers, 3 tensors per layer, 0 outside the layers), "
                + "'vision_model.encoder.layers' (3 layers, 3 tensors per layer, 0 outside the layers), "
                + "'default' (0 layers, 0 tensors per layer, 7 outside the layers)"));
        // the output config: the reference's, layer counts untouched (the inferred modules have no config key)
        ObjectNode want = (ObjectNode) JSON.valueToTree(config());
        want.put("torch_dtype", "float32");
        JsonNode cfg = JSON.readTree(Files.readString(r.outDir().resolve("config.json")));
        assertThat(cfg).isEqualTo(want);
    }

    @Test
    void embeddingsAreTheLooseTensorsWithVocabularyRows() {
        // a tokenizer source re-maps the rows of embeddings only: the vocab-sized tensors are cut to the
        // tokenizer's 12 tokens, the other loose tensors (position embeddings, projector) keep their rows
        Path small = dir.resolve("small");
        TinyCheckpoint.write(small, config(), tensors(TEXT_LAYERS, VISION_LAYERS), 12, 7, 5);
        MergeResult r = run("""
                merge_method: linear
                base_model: a
                models:
                  - model: a
                    parameters: {weight: 1}
                  - model: b
                    parameters: {weight: 1}
                tokenizer_source: small
                dtype: float32
                """, "tokenized");
        assertThat(r.vocabSize()).isEqualTo(12);
        try (HfModelDir out = HfModelDir.open(r.outDir())) {
            assertThat(out.info("text_model.embed_tokens.weight").shape()).containsExactly(12, H);
            assertThat(out.info("lm_head.weight").shape()).containsExactly(12, H);
            assertThat(out.info("vision_model.embeddings.position_embedding.weight").shape()).containsExactly(5, 6);
            assertThat(out.info("projector.linear.weight").shape()).containsExactly(H, 6);
        }
    }

    @Test
    void modelsThatNumberDifferentLayersInAStackAreRefusedWithWhatWasFound() {
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> run("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: shallow, parameters: {weight: 1}}]
                """, "o1"));
        assertThat(e.problems()).anyMatch(p -> p.startsWith("model 'a': cannot infer the tensor layout of"
                + " architecture '" + ARCH + "' (no family file): the models number different layer counts under"
                + " 'vision_model.encoder.layers' {a=3, shallow=2} (found 'text_model.layers' {a=2, shallow=2},"
                + " 'vision_model.encoder.layers' {a=3, shallow=2}, 7 tensors outside the layers)")
                && p.contains("architectures with a family file: LlamaForCausalLM"));

        // a model without the vision stack numbers 0 layers in it
        e = catchThrowableOfType(MergeConfigException.class, () -> run("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: blind, parameters: {weight: 1}}]
                """, "o2"));
        assertThat(e.problems()).anyMatch(p -> p.contains("different layer counts under"
                + " 'vision_model.encoder.layers' {a=3, blind=0}"));
    }

    @Test
    void aLayerIndexBeyondTheLayersAMergeMayHaveIsRefused() {
        Map<String, long[]> t = tensors(TEXT_LAYERS, VISION_LAYERS);
        t.put("vision_model.encoder.layers.1024.mlp.fc1.weight", new long[]{10, 6});
        TinyCheckpoint.write(dir.resolve("huge"), config(), t, V, 7, 6);
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> run("""
                merge_method: linear
                models: [{model: huge, parameters: {weight: 1}}]
                """, "o3"));
        assertThat(e.problems()).anyMatch(p -> p.contains("cannot infer") && p.contains(
                "'vision_model.encoder.layers.1024.mlp.fc1.weight' of model 'huge' has layer index 1024 under"
                        + " 'vision_model.encoder.layers', beyond the 1024 layers a model may have"));
    }

    @Test
    void topLevelSlicesAreRefusedForSeveralInferredModulesAsMergekitRefusesThem() {
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> run("""
                merge_method: passthrough
                slices:
                  - sources: [{model: a, layer_range: [0, 1]}]
                """, "o4"));
        assertThat(e.problems()).anyMatch(p -> p.contains("'a' is " + ARCH + ", whose family (inferred) has 3"
                + " modules (text_model.layers, vision_model.encoder.layers, default): top-level slices apply to a"
                + " family of one module"));
    }

    @Test
    void aTokenizerDonorsTensorsDoNotShapeTheInferredLayout() {
        // the donor has no vision stack: read, its 0 layers there would disagree with a and b
        MergeResult r = run("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 1}}]
                tokenizer_source: blind
                """, "donor");
        assertThat(r.warnings()).anyMatch(w -> w.contains("'vision_model.encoder.layers' (3 layers"));
    }

    @Test
    void withoutAVocabularySizeNoTensorIsAnEmbeddingAndTheConfigGetsNone() throws Exception {
        Map<String, Object> config = Map.of("architectures", List.of(ARCH), "model_type", "pico_vlm");
        TinyCheckpoint.write(dir.resolve("novocab"), config, tensors(TEXT_LAYERS, VISION_LAYERS), V, 7, 8);
        MergeResult r = run("""
                merge_method: linear
                models: [{model: novocab, parameters: {weight: 1}}]
                dtype: float32
                """, "novocab-out");
        assertThat(r.vocabSize()).isEqualTo(-1);
        JsonNode cfg = JSON.readTree(Files.readString(r.outDir().resolve("config.json")));
        assertThat(cfg.has("vocab_size")).isFalse();
        assertThat(Files.readString(r.outDir().resolve("README.md"))).contains("2 layers, no embedding, float32.");
        try (HfModelDir out = HfModelDir.open(r.outDir())) {
            assertThat(out.info("lm_head.weight").shape()).containsExactly(V, H);
        }
    }
}
