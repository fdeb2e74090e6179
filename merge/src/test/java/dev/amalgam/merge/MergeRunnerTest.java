package dev.amalgam.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.Dtypes;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class MergeRunnerTest {

    @TempDir
    Path tmp;

    private final TinyLlama tiny = TinyLlama.small();

    private MergeResult merge(String yaml, Path out) {
        return merge(yaml, out, MergeOptions.defaults().withThreads(2));
    }

    private MergeResult merge(String yaml, Path out, MergeOptions options) {
        return new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(tmp), out, options,
                dev.amalgam.job.Progress.NONE);
    }

    private static float[] read(Path dir, String tensor) {
        try (HfModelDir m = HfModelDir.open(dir)) {
            return m.tensor(tensor).toFloatArray();
        }
    }

    private static float bf16(float x) {
        return Dtypes.bf16ToFloat(Dtypes.floatToBf16(x));
    }

    @Test
    void linearOfTwoModelsIsTheWeightedAverageOfEveryTensor() {
        tiny.writeVariant(tmp.resolve("a"), 1, 10, 0.02f);
        tiny.writeVariant(tmp.resolve("b"), 1, 11, 0.02f);
        AtomicInteger calls = new AtomicInteger();
        MergeResult r = new MergeRunner().run(MergeConfig.parseYaml("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: 0.25}
                  - model: b
                    parameters: {weight: 0.75}
                dtype: bfloat16
                """), ModelResolver.paths(tmp), tmp.resolve("out"), MergeOptions.defaults().withThreads(3),
                (fraction, message) -> calls.incrementAndGet());
        assertThat(r.tensors()).isEqualTo(tiny.specs().size());
        assertThat(calls.get()).isEqualTo(r.tensors());
        for (TensorSpec spec : tiny.specs()) {
            float[] a = read(tmp.resolve("a"), spec.name());
            float[] b = read(tmp.resolve("b"), spec.name());
            float[] out = read(tmp.resolve("out"), spec.name());
            for (int i = 0; i < out.length; i++) {
                assertThat(out[i]).isEqualTo(bf16((0.25f * a[i] + 0.75f * b[i]) / 1.0f));
            }
        }
        assertThat(r.files()).contains("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "generation_config.json", "README.md");
        assertThat(Files.exists(tmp.resolve("out/README.md"))).isTrue();
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void oneModelAtWeightOneGivesThatModelBitForBit() throws IOException {
        tiny.writeVariant(tmp.resolve("a"), 1, 10, 0.02f);
        merge("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: 1.0}
                """, tmp.resolve("out"));
        for (TensorSpec spec : tiny.specs()) {
            assertThat(read(tmp.resolve("out"), spec.name())).containsExactly(read(tmp.resolve("a"), spec.name()));
        }
        String card = Files.readString(tmp.resolve("out/README.md"));
        assertThat(card).contains("merged using the [Linear](https://arxiv.org/abs/2203.05482) merge method").contains("weight: 1.0");
    }

    @Test
    void slerpAtTZeroGivesTheBaseAndGradientsFollowTheLayers() {
        TinyLlama three = tiny.withLayers(3);
        three.write(tmp.resolve("base"), 1);
        three.writeVariant(tmp.resolve("ft"), 1, 7, 0.05f);
        merge("""
                merge_method: slerp
                base_model: base
                models: [{model: base}, {model: ft}]
                parameters: {t: 0.0}
                """, tmp.resolve("s0"));
        for (TensorSpec spec : three.specs()) {
            assertThat(read(tmp.resolve("s0"), spec.name())).containsExactly(read(tmp.resolve("base"), spec.name()));
        }
        // task arithmetic with a weight gradient [0, 1]: layer i gets weight i / 2; embeddings use t = 0
        merge("""
                merge_method: task_arithmetic
                base_model: base
                models:
                  - model: ft
                    parameters: {weight: [0, 1]}
                dtype: float32
                """, tmp.resolve("ta"));
        for (int layer = 0; layer < 3; layer++) {
            String name = "model.layers." + layer + ".mlp.up_proj.weight";
            float[] b = read(tmp.resolve("base"), name);
            float[] f = read(tmp.resolve("ft"), name);
            float[] o = read(tmp.resolve("ta"), name);
            float w = layer / 2f;
            for (int i = 0; i < o.length; i++) {
                assertThat(o[i]).isCloseTo(b[i] + w * (f[i] - b[i]), within(1e-6f));
            }
        }
        assertThat(read(tmp.resolve("ta"), "model.embed_tokens.weight"))
                .containsExactly(read(tmp.resolve("base"), "model.embed_tokens.weight"));
    }

    @Test
    void passthroughSlicesRenumberLayersAndFixTheConfig() {
        TinyLlama three = tiny.withLayers(3);
        three.writeVariant(tmp.resolve("a"), 1, 1, 0.05f);
        three.writeVariant(tmp.resolve("b"), 2, 2, 0.05f);
        MergeResult r = merge("""
                merge_method: passthrough
                slices:
                  - sources: [{model: a, layer_range: [0, 2]}]
                  - sources: [{model: b, layer_range: [1, 3]}]
                dtype: bfloat16
                """, tmp.resolve("out"));
        assertThat(r.numLayers()).isEqualTo(4);
        // a's head and its third layer are in the layout, only not selected: no warning calls them outside it
        assertThat(r.warnings()).noneMatch(w -> w.contains("are not in the"));
        assertThat(read(tmp.resolve("out"), "model.layers.1.self_attn.q_proj.weight"))
                .containsExactly(read(tmp.resolve("a"), "model.layers.1.self_attn.q_proj.weight"));
        assertThat(read(tmp.resolve("out"), "model.layers.2.self_attn.q_proj.weight"))
                .containsExactly(read(tmp.resolve("b"), "model.layers.1.self_attn.q_proj.weight"));
        assertThat(read(tmp.resolve("out"), "model.layers.3.mlp.down_proj.weight"))
                .containsExactly(read(tmp.resolve("b"), "model.layers.2.mlp.down_proj.weight"));
        assertThat(read(tmp.resolve("out"), "model.embed_tokens.weight"))
                .containsExactly(read(tmp.resolve("a"), "model.embed_tokens.weight"));
        assertThat(read(tmp.resolve("out"), "lm_head.weight")).containsExactly(read(tmp.resolve("b"), "lm_head.weight"));
        try (HfModelDir out = HfModelDir.open(tmp.resolve("out"))) {
            assertThat(out.config().get("num_hidden_layers").intValue()).isEqualTo(4);
            assertThat(out.tensorNames()).hasSize(tiny.withLayers(4).specs().size());
        }
    }

    @Test
    void aFamilyOfOneModuleTakesTheModulesFormUnderTheNameDefault() {
        TinyLlama three = tiny.withLayers(3);
        three.writeVariant(tmp.resolve("a"), 1, 1, 0.05f);
        three.writeVariant(tmp.resolve("b"), 2, 2, 0.05f);
        MergeResult r = merge("""
                merge_method: passthrough
                modules:
                  default:
                    slices:
                      - sources: [{model: a, layer_range: [0, 2]}]
                      - sources: [{model: b, layer_range: [1, 3]}]
                dtype: bfloat16
                """, tmp.resolve("out"));
        assertThat(r.numLayers()).isEqualTo(4);
        assertThat(read(tmp.resolve("out"), "model.layers.2.self_attn.q_proj.weight"))
                .containsExactly(read(tmp.resolve("b"), "model.layers.1.self_attn.q_proj.weight"));
        assertThat(read(tmp.resolve("out"), "model.layers.0.mlp.up_proj.weight"))
                .containsExactly(read(tmp.resolve("a"), "model.layers.0.mlp.up_proj.weight"));
        assertThat(read(tmp.resolve("out"), "lm_head.weight")).containsExactly(read(tmp.resolve("b"), "lm_head.weight"));
        try (HfModelDir out = HfModelDir.open(tmp.resolve("out"))) {
            assertThat(out.config().get("num_hidden_layers").intValue()).isEqualTo(4);
            assertThat(out.tensorNames()).hasSize(tiny.withLayers(4).specs().size());
        }
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> merge("""
                merge_method: passthrough
                modules:
                  text:
                    slices: [{sources: [{model: a, layer_range: [0, 2]}]}]
                """, tmp.resolve("bad")));
        assertThat(e.problems()).anyMatch(p -> p.startsWith("modules.text: 'a' (LlamaForCausalLM, family llama.json)")
                && p.endsWith("has no module 'text'; its modules: default"));
    }

    @Test
    void anOptionalTensorSomeModelsLackIsMergedFromTheModelsThatStoreItAsMergekitDoes() {
        Map<String, long[]> shapes = new java.util.LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[]{16, 8});
        String p = "model.layers.0.";
        shapes.put(p + "input_layernorm.weight", new long[]{8});
        for (String proj : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
            shapes.put(p + "self_attn." + proj + ".weight", new long[]{8, 8});
        }
        shapes.put(p + "post_attention_layernorm.weight", new long[]{8});
        for (String proj : List.of("gate_proj", "up_proj")) {
            shapes.put(p + "mlp." + proj + ".weight", new long[]{12, 8});
        }
        shapes.put(p + "mlp.down_proj.weight", new long[]{8, 12});
        shapes.put("model.norm.weight", new long[]{8});
        shapes.put("lm_head.weight", new long[]{16, 8});
        Map<String, Object> config = Map.of("architectures", List.of("LlamaForCausalLM"), "model_type", "llama",
                "num_hidden_layers", 1, "vocab_size", 16, "hidden_size", 8);
        Map<String, long[]> withBias = new java.util.LinkedHashMap<>(shapes);
        withBias.put(p + "self_attn.q_proj.bias", new long[]{8}); // attention_bias: only some models have it
        TinyCheckpoint.write(tmp.resolve("a"), config, withBias, 16, 5, 1);
        TinyCheckpoint.write(tmp.resolve("b"), config, shapes, 16, 5, 2);
        MergeResult r = merge("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: 1}
                  - model: b
                    parameters: {weight: 3}
                dtype: float32
                """, tmp.resolve("out"));
        // linear over the models that store it: the bias is a's alone (weights normalised over a only)
        assertThat(read(tmp.resolve("out"), p + "self_attn.q_proj.bias")).containsExactly(read(tmp.resolve("a"),
                p + "self_attn.q_proj.bias"));
        float[] qa = read(tmp.resolve("a"), p + "self_attn.q_proj.weight");
        float[] qb = read(tmp.resolve("b"), p + "self_attn.q_proj.weight");
        float[] q = read(tmp.resolve("out"), p + "self_attn.q_proj.weight");
        for (int i = 0; i < q.length; i++) {
            assertThat(q[i]).isCloseTo((qa[i] + 3 * qb[i]) / 4, within(1e-6f));
        }
        assertThat(r.warnings()).anyMatch(w -> w.startsWith("1 optional tensors are merged from only the models")
                && w.contains(p + "self_attn.q_proj.bias"));
        // the base must store it: task arithmetic against a base without it is a problem (mergekit fails on it)
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> merge("""
                merge_method: task_arithmetic
                base_model: b
                models: [{model: a, parameters: {weight: 1}}]
                """, tmp.resolve("ta")));
        assertThat(e.problems()).anyMatch(x -> x.startsWith("model 'b' has no tensor '" + p + "self_attn.q_proj.bias'")
                && x.contains("the base model must have it"));
    }

    @Test
    void differentVocabSizesUseTheCommonSubMatrixAndTheConfigSaysSo() {
        tiny.withVocab(32).writeVariant(tmp.resolve("a"), 1, 1, 0.02f);
        tiny.withVocab(40).writeVariant(tmp.resolve("b"), 1, 2, 0.02f);
        MergeResult r = merge("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 1}}]
                dtype: float32
                """, tmp.resolve("out"));
        assertThat(r.vocabSize()).isEqualTo(32);
        assertThat(r.warnings()).anyMatch(w -> w.contains("common first 32 rows"));
        float[] a = read(tmp.resolve("a"), "lm_head.weight");
        float[] b = read(tmp.resolve("b"), "lm_head.weight");
        float[] o = read(tmp.resolve("out"), "lm_head.weight");
        assertThat(o).hasSize(32 * 16);
        for (int i = 0; i < o.length; i++) {
            assertThat(o[i]).isCloseTo((a[i] + b[i]) / 2, within(1e-6f));
        }
        try (HfModelDir out = HfModelDir.open(tmp.resolve("out"))) {
            assertThat(out.config().get("vocab_size").intValue()).isEqualTo(32);
            assertThat(out.config().get("torch_dtype").asString()).isEqualTo("float32");
        }
    }

    @Test
    void tokenizerSourceMapsEmbeddingRowsByToken() {
        TinyLlama t = tiny.withDtype(DType.F32);
        String[] tokens = t.defaultTokens();
        String[] permuted = tokens.clone();
        // b stores "tok2" at id 5 and "tok5" at id 2
        permuted[2] = tokens[5];
        permuted[5] = tokens[2];
        t.writeVariant(tmp.resolve("a"), 1, 1, 0.02f, tokens, Long.MAX_VALUE);
        t.writeVariant(tmp.resolve("b"), 2, 2, 0.02f, permuted, Long.MAX_VALUE);
        merge("""
                merge_method: linear
                base_model: a
                models: [{model: a, parameters: {weight: 0}}, {model: b, parameters: {weight: 1}}]
                tokenizer_source: base
                """, tmp.resolve("out"));
        float[] b = read(tmp.resolve("b"), "model.embed_tokens.weight");
        float[] o = read(tmp.resolve("out"), "model.embed_tokens.weight");
        int h = 16;
        for (int c = 0; c < h; c++) {
            assertThat(o[2 * h + c]).isEqualTo(b[5 * h + c]);
            assertThat(o[5 * h + c]).isEqualTo(b[2 * h + c]);
            assertThat(o[7 * h + c]).isEqualTo(b[7 * h + c]);
        }
    }

    @Test
    void unionTokenizerAddsTheMissingTokensAndMapsTheirRows() throws IOException {
        TinyLlama t = tiny.withDtype(DType.F32);
        String[] tokens = t.defaultTokens();
        String[] other = tokens.clone();
        for (int i = 0; i < 4; i++) {
            other[28 + i] = "new" + i; // b lacks tok28..tok31 and has new0..new3 instead
        }
        t.writeVariant(tmp.resolve("a"), 1, 1, 0.02f, tokens, Long.MAX_VALUE);
        t.writeVariant(tmp.resolve("b"), 2, 2, 0.02f, other, Long.MAX_VALUE);
        MergeResult r = merge("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 1}}]
                tokenizer_source: union
                """, tmp.resolve("out"));
        assertThat(r.vocabSize()).isEqualTo(36);
        int h = 16;
        for (String tensor : List.of("model.embed_tokens.weight", "lm_head.weight")) {
            float[] a = read(tmp.resolve("a"), tensor);
            float[] b = read(tmp.resolve("b"), tensor);
            float[] o = read(tmp.resolve("out"), tensor);
            assertThat(o).hasSize(36 * h);
            for (int c = 0; c < h; c++) {
                assertThat(o[5 * h + c]).isCloseTo((a[5 * h + c] + b[5 * h + c]) / 2, within(1e-6f)); // in both
                assertThat(o[29 * h + c]).isCloseTo(a[29 * h + c], within(1e-6f)); // tok29: only in a
                assertThat(o[33 * h + c]).isCloseTo(b[29 * h + c], within(1e-6f)); // new1: only in b (its id 29)
            }
        }
        JsonNode tok = tools.jackson.databind.json.JsonMapper.builder().build()
                .readTree(tmp.resolve("out/tokenizer.json").toFile());
        List<String> added = new ArrayList<>();
        tok.get("added_tokens").forEach(x -> added.add(x.get("content").asString() + "=" + x.get("id").intValue()));
        assertThat(added).contains("new0=32", "new1=33", "new2=34", "new3=35", "<s>=0");
        try (HfModelDir out = HfModelDir.open(tmp.resolve("out"))) {
            assertThat(out.config().get("vocab_size").intValue()).isEqualTo(36);
        }
    }

    @Test
    void tiedEmbeddingsAreWrittenOnceAndMixedTyingGetsAHeadWithTheBasesTieFlag() {
        tiny.withTied(true).writeVariant(tmp.resolve("a"), 1, 1, 0.02f);
        tiny.withTied(true).writeVariant(tmp.resolve("b"), 1, 2, 0.02f);
        tiny.withTied(false).writeVariant(tmp.resolve("c"), 1, 3, 0.02f);
        MergeResult tied = merge("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 1}}]
                """, tmp.resolve("tied"));
        assertThat(tied.tiedEmbeddings()).isTrue();
        try (HfModelDir out = HfModelDir.open(tmp.resolve("tied"))) {
            assertThat(out.hasTensor("lm_head.weight")).isFalse();
            assertThat(out.config().get("tie_word_embeddings").booleanValue()).isTrue();
        }
        MergeResult mixed = merge("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: c, parameters: {weight: 1}}]
                dtype: float32
                """, tmp.resolve("mixed"));
        assertThat(mixed.tiedEmbeddings()).isFalse();
        float[] aEmbed = read(tmp.resolve("a"), "model.embed_tokens.weight");
        float[] cHead = read(tmp.resolve("c"), "lm_head.weight");
        float[] head = read(tmp.resolve("mixed"), "lm_head.weight");
        for (int i = 0; i < head.length; i++) {
            assertThat(head[i]).isCloseTo((aEmbed[i] + cHead[i]) / 2, within(1e-6f));
        }
        // mergekit writes the head and leaves config.json's tie_word_embeddings as the base (here: first, tied) has it
        assertThat(mixed.warnings()).anyMatch(w -> w.contains("keeps 'a'") && w.contains("tie_word_embeddings: true"));
        try (HfModelDir out = HfModelDir.open(tmp.resolve("mixed"))) {
            assertThat(out.config().get("tie_word_embeddings").booleanValue()).isTrue();
        }
        merge("""
                merge_method: linear
                models: [{model: c, parameters: {weight: 1}}, {model: a, parameters: {weight: 1}}]
                """, tmp.resolve("untiedBase"));
        try (HfModelDir out = HfModelDir.open(tmp.resolve("untiedBase"))) {
            assertThat(out.hasTensor("lm_head.weight")).isTrue();
            assertThat(out.config().get("tie_word_embeddings").booleanValue()).isFalse();
        }
    }

    @Test
    void randomMethodsAreReproducibleForASeed() throws IOException {
        tiny.write(tmp.resolve("base"), 1);
        tiny.writeVariant(tmp.resolve("x"), 1, 2, 0.05f);
        tiny.writeVariant(tmp.resolve("y"), 1, 3, 0.05f);
        String yaml = """
                merge_method: dare_ties
                base_model: base
                models:
                  - model: x
                    parameters: {weight: 0.5, density: 0.5}
                  - model: y
                    parameters: {weight: 0.5, density: 0.5}
                """;
        merge(yaml, tmp.resolve("r1"), MergeOptions.defaults().withThreads(1).withSeed(7));
        merge(yaml, tmp.resolve("r2"), MergeOptions.defaults().withThreads(3).withSeed(7));
        merge(yaml, tmp.resolve("r3"), MergeOptions.defaults().withThreads(2).withSeed(8));
        byte[] w1 = Files.readAllBytes(tmp.resolve("r1/model.safetensors"));
        assertThat(Files.readAllBytes(tmp.resolve("r2/model.safetensors"))).isEqualTo(w1);
        assertThat(Files.readAllBytes(tmp.resolve("r3/model.safetensors"))).isNotEqualTo(w1);
    }

    @Test
    void shardsAndIndexWhenOutputIsLarge() {
        tiny.writeVariant(tmp.resolve("a"), 1, 1, 0.02f);
        MergeResult r = merge("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}]
                """, tmp.resolve("out"), MergeOptions.defaults().withThreads(2).withMaxShardBytes(2048));
        assertThat(r.files()).contains("model.safetensors.index.json").noneMatch(f -> f.equals("model.safetensors"));
        for (TensorSpec spec : tiny.specs()) {
            assertThat(read(tmp.resolve("out"), spec.name())).containsExactly(read(tmp.resolve("a"), spec.name()));
        }
    }

    @Test
    void everyProblemWithTheModelsIsReportedBeforeAnythingIsWritten() throws IOException {
        tiny.write(tmp.resolve("base"), 1);
        tiny.writeVariant(tmp.resolve("ok"), 1, 2, 0.02f);
        // a model that lacks a tensor
        TinyLlama t = tiny;
        t.writeVariant(tmp.resolve("holey"), 1, 3, 0.02f, t.defaultTokens(), 1500);
        Path index = tmp.resolve("holey/model.safetensors.index.json");
        Files.writeString(index, Files.readString(index)
                .replaceAll("\"model\\.layers\\.1\\.mlp\\.up_proj\\.weight\"\\s*:\\s*\"[^\"]+\",?", ""));
        // a model with another hidden size
        new TinyLlama(32, 8, 24, 2, 4, 2, false, DType.BF16).write(tmp.resolve("narrow"), 4);
        // a truncated safetensors file
        tiny.writeVariant(tmp.resolve("broken"), 1, 5, 0.02f);
        Path st = tmp.resolve("broken/model.safetensors");
        byte[] bytes = Files.readAllBytes(st);
        Files.write(st, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> merge("""
                merge_method: ties
                base_model: base
                models:
                  - model: ok
                    parameters: {weight: 1, density: 0.5}
                  - model: holey
                    parameters: {weight: 1}
                  - model: narrow
                    parameters: {weight: 1}
                  - model: broken
                    parameters: {weight: 1}
                  - model: missing
                    parameters: {weight: 1}
                """, tmp.resolve("out")));
        assertThat(e.problems()).anyMatch(p -> p.contains("'broken'"))
                .anyMatch(p -> p.contains("'missing'"));
        List<String> problems = new ArrayList<>(e.problems());
        assertThat(Files.exists(tmp.resolve("out"))).isFalse();
        // without the unreadable ones, the planner reports the rest together
        MergeConfigException e2 = catchThrowableOfType(MergeConfigException.class, () -> merge("""
                merge_method: ties
                base_model: base
                models:
                  - model: ok
                  - model: holey
                    parameters: {weight: 1}
                  - model: narrow
                    parameters: {weight: 1}
                """, tmp.resolve("out")));
        assertThat(e2.problems()).anyMatch(p -> p.contains("'holey' has no tensor 'model.layers.1.mlp.up_proj.weight'"))
                .anyMatch(p -> p.contains("hidden_size"))
                .anyMatch(p -> p.contains("missing required parameter 'weight' for model 'ok'"));
        assertThat(problems).isNotEmpty();
        assertThat(Files.exists(tmp.resolve("out"))).isFalse();
    }

    @Test
    void aMergeThatFailsWhileRunningLeavesNoOutput() throws IOException {
        tiny.writeVariant(tmp.resolve("a"), 1, 1, 0.02f);
        tiny.writeVariant(tmp.resolve("b"), 1, 2, 0.02f);
        // weights cancel on the MLP tensors only: linear cannot normalise there
        MergeException e = catchThrowableOfType(MergeException.class, () -> merge("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: 1}
                  - model: b
                    parameters:
                      weight: [{filter: mlp, value: -1}, {value: 1}]
                """, tmp.resolve("out")));
        assertThat(e).hasMessageContaining("mlp");
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("a", "b");
        }
    }

    @Test
    void aCancelledMergeStopsWithCancelledExceptionAndNothingIsPublished() throws IOException {
        tiny.writeVariant(tmp.resolve("a"), 1, 1, 0.02f);
        AtomicInteger seen = new AtomicInteger();
        var e = catchThrowableOfType(dev.amalgam.job.CancelledException.class, () -> new MergeRunner().run(
                MergeConfig.parseYaml("merge_method: linear\nmodels: [{model: a, parameters: {weight: 1}}]"),
                ModelResolver.paths(tmp), tmp.resolve("out"), MergeOptions.defaults().withThreads(2),
                new dev.amalgam.job.Progress() {
                    @Override
                    public void progress(double fraction, String message) {
                        seen.incrementAndGet();
                    }

                    @Override
                    public boolean isCancelled() {
                        return seen.get() >= 3;
                    }
                }));
        assertThat(e).hasMessageContaining("merge cancelled after");
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("a");
        }
    }

    @Test
    void outputConfigIsTrueToTheOutput() {
        tiny.withDtype(DType.F32).writeVariant(tmp.resolve("a"), 1, 1, 0.02f);
        MergeResult r = merge("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}]
                out_dtype: bfloat16
                chat_template: chatml
                """, tmp.resolve("out"));
        assertThat(r.dtype()).isEqualTo("bfloat16");
        try (HfModelDir out = HfModelDir.open(tmp.resolve("out"))) {
            JsonNode c = out.config();
            assertThat(c.get("torch_dtype").asString()).isEqualTo("bfloat16");
            assertThat(out.dominantDtype()).isEqualTo(DType.BF16);
            assertThat(c.get("num_hidden_layers").intValue()).isEqualTo(2);
            assertThat(c.get("vocab_size").intValue()).isEqualTo(32);
            assertThat(c.get("tie_word_embeddings").booleanValue()).isFalse();
        }
        assertThat(tmp.resolve("out/tokenizer_config.json")).content().contains("im_start");
    }
}
