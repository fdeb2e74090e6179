package dev.amalgam.merge.method;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.job.Progress;
import dev.amalgam.merge.MergeOptions;
import dev.amalgam.merge.MergeResult;
import dev.amalgam.merge.MergeRunner;
import dev.amalgam.merge.ModelResolver;
import dev.amalgam.merge.TinyLlama;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * mergekit's own test configurations, written out as YAML, run on tiny models made here, every output tensor
 * checked against a plain reference computed in this file (or {@link NaiveMerges}) from mergekit's formulas:
 * {@code tests/test_basic_merges.py} (its {@code two_model_config} and each test's parameters, the parametrised
 * nuslerp loops included), {@code tests/test_tokenizer.py}, {@code tests/test_chat_template.py} and the
 * {@code examples/} directory. Values must match to the output dtype's rounding (one unit in the last place of
 * bf16/f16, as the FP32 order of operations may differ).
 *
 * <p>The models are mergekit's {@code make_picollama}: Llama, vocabulary 64, hidden 32, MLP 48, 16 heads, 2
 * layers, untied head, independent random values (FP32).
 */
class MergekitTestConfigsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final TinyLlama PICO = new TinyLlama(64, 32, 48, 2, 16, 16, false, DType.F32);

    @TempDir
    static Path dir;

    @BeforeAll
    static void models() throws IOException {
        PICO.write(dir.resolve("model_a"), 1);
        PICO.write(dir.resolve("model_b"), 2);
        PICO.write(dir.resolve("model_c"), 3);
        // test_tokenizer.py: make_tokenizer's vocabularies on models of 64 and 66 rows
        PICO.write(dir.resolve("model_base"), 11);
        tokenizer(dir.resolve("model_base"), List.of());
        PICO.withVocab(66).write(dir.resolve("model_chatml"), 12);
        tokenizer(dir.resolve("model_chatml"), List.of("<|im_start|>", "<|im_end|>"));
        PICO.write(dir.resolve("model_padded"), 13);
        tokenizer(dir.resolve("model_padded"), List.of("<UNUSED_0>", "<UNUSED_1>", "<UNUSED_2>", "<UNUSED_3>"));
        // test_chat_template.py's model_b has no tokenizer at all (make_picollama saves none)
        PICO.write(dir.resolve("model_notok"), 14);
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
            Files.delete(dir.resolve("model_notok").resolve(f));
        }
        // test_basic_merges.py's granite models: make_picogranite (2 heads)
        TinyLlama granite = new TinyLlama(64, 32, 48, 2, 2, 2, false, DType.F32);
        for (String g : List.of("granite_a", "granite_b")) {
            granite.write(dir.resolve(g), g.hashCode());
            ObjectNode c = (ObjectNode) JSON.readTree(dir.resolve(g).resolve("config.json").toFile());
            c.putArray("architectures").add("GraniteForCausalLM");
            c.put("model_type", "granite");
            Files.writeString(dir.resolve(g).resolve("config.json"), JSON.writeValueAsString(c));
        }
    }

    /**
     * make_tokenizer: a BPE vocabulary {@code <unk>, <s>, </s>, _tok_3 .. _tok_63}, the three special tokens
     * registered as added tokens (LlamaTokenizerFast's), then {@code add_tokens(extra)} at ids 64, 65, ...
     */
    private static void tokenizer(Path model, List<String> extra) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int i = 0; i < 64; i++) {
            vocab.put(i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>" : "_tok_" + i, i);
        }
        List<Map<String, Object>> added = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            added.add(addedToken(i, i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>", true));
        }
        for (int i = 0; i < extra.size(); i++) {
            added.add(addedToken(64 + i, extra.get(i), false));
        }
        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("version", "1.0");
        tok.put("added_tokens", added);
        tok.put("model", Map.of("type", "BPE", "vocab", vocab, "merges", List.of()));
        Files.writeString(model.resolve("tokenizer.json"), JSON.writeValueAsString(tok));
        Map<String, Object> decoder = new TreeMap<>();
        added.forEach(t -> decoder.put(t.get("id").toString(), Map.of("content", t.get("content"), "special",
                t.get("special"))));
        Files.writeString(model.resolve("tokenizer_config.json"), JSON.writeValueAsString(Map.of(
                "added_tokens_decoder", decoder, "bos_token", "<s>", "eos_token", "</s>", "unk_token", "<unk>")));
    }

    private static Map<String, Object> addedToken(int id, String content, boolean special) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("id", id);
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", !special);
        t.put("special", special);
        return t;
    }

    // ---------------------------------------------------------------- running and checking

    private static MergeResult run(String yaml, String out) {
        return new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(dir), dir.resolve(out),
                MergeOptions.defaults().withThreads(2), Progress.NONE);
    }

    private static Map<String, float[]> tensors(Path model) {
        Map<String, float[]> res = new TreeMap<>();
        try (HfModelDir m = HfModelDir.open(model)) {
            m.tensorNames().forEach(n -> res.put(n, m.tensor(n).toFloatArray()));
        }
        return res;
    }

    private static long[] shape(Path model, String tensor) {
        try (HfModelDir m = HfModelDir.open(model)) {
            return m.info(tensor).shape();
        }
    }

    /** The reference: the output tensor from the inputs' tensors of the same name (input order), and its name. */
    interface Reference {
        float[] expected(String tensor, float[][] inputs, long[] shape);
    }

    /**
     * Runs a config and checks that the output holds exactly the inputs' tensors, each equal to the reference
     * within the output dtype's rounding.
     */
    private static void check(String yaml, String out, List<String> inputs, DType outDtype, Reference ref) {
        MergeResult r = run(yaml, out);
        Map<String, float[]> got = tensors(r.outDir());
        List<Map<String, float[]>> in = inputs.stream().map(m -> tensors(dir.resolve(m))).toList();
        assertThat(got.keySet()).as(out + ": tensor names").isEqualTo(in.get(0).keySet());
        for (Map.Entry<String, float[]> e : got.entrySet()) {
            String name = e.getKey();
            float[][] x = in.stream().map(t -> t.get(name)).toArray(float[][]::new);
            float[] expected = ref.expected(name, x, shape(dir.resolve(inputs.get(0)), name));
            assertClose(e.getValue(), expected, outDtype, out + " " + name);
        }
    }

    /** Equal up to one unit in the last place of the output dtype (and 1e-7 absolute, for results near 0). */
    static void assertClose(float[] got, float[] expected, DType dtype, String what) {
        assertThat(got.length).as(what + " length").isEqualTo(expected.length);
        int dropBits = dtype == DType.BF16 ? 16 : dtype == DType.F16 ? 13 : 0;
        for (int i = 0; i < got.length; i++) {
            double tol = Math.ulp(expected[i]) * (1 << dropBits) + 1e-7;
            if (!(Math.abs(got[i] - expected[i]) <= tol)) {
                throw new AssertionError(what + "[" + i + "]: got " + got[i] + ", expected " + expected[i]
                        + " (tolerance " + tol + ")");
            }
        }
    }

    /** PlannedTensor's seed: the merge seed (0 here) and the tensor name, as docs/algorithms.md section 4 states. */
    private static long tensorSeed(String name) {
        return new SplittableRandom(0L ^ (name.hashCode() * 0x9E3779B97F4A7C15L)).nextLong();
    }

    /** test_basic_merges.py's two_model_config: weights 0.6 and 0.4, dtype bfloat16. */
    private static String twoModelConfig(String a, String b, String method, String base, String params) {
        return "merge_method: " + method + "\n" + (base != null ? "base_model: " + base + "\n" : "") + """
                models:
                  - model: %s
                    parameters: {weight: 0.6}
                  - model: %s
                    parameters: {weight: 0.4}
                dtype: bfloat16
                """.formatted(a, b) + (params != null ? "parameters: " + params + "\n" : "");
    }

    /**
     * The reference of two_model_config's task-arithmetic-family merges: models weighted 0.6 and 0.4, the base the
     * third input, lambda 1, per-tensor seed and last dimension as the merge sees them.
     */
    private static Reference twoModelGta(double density, double gamma, NaiveMerges.Thinning thinning,
                                         boolean consensus, boolean normalize, boolean rescale) {
        return (n, x, s) -> NaiveMerges.taskArithmetic(x, 2, gtaParams(3, new double[]{0.6, 0.4}, density, gamma, 0),
                thinning, consensus, normalize, rescale, 1, tensorSeed(n), columns(s));
    }

    private static NaiveMerges.ModelParams[] gtaParams(int inputs, double[] weights, double density, double gamma,
                                                       double epsilon) {
        NaiveMerges.ModelParams[] p = new NaiveMerges.ModelParams[inputs];
        for (int i = 0; i < inputs; i++) {
            p[i] = new NaiveMerges.ModelParams(i < weights.length ? weights[i] : 0, density, gamma, epsilon);
        }
        return p;
    }

    private static int columns(long[] shape) {
        return (int) shape[shape.length - 1];
    }

    // ---------------------------------------------------------------- tests/test_basic_merges.py

    @Test
    void testLinearMerge() {
        check(twoModelConfig("model_a", "model_b", "linear", null, null), "linear", List.of("model_a", "model_b"),
                DType.BF16, (n, x, s) -> NaiveMerges.linear(x, new double[]{0.6, 0.4}, true));
    }

    @Test
    void testSlerpMerge() {
        check(twoModelConfig("model_a", "model_b", "slerp", "model_a", "{t: 0.35}"), "slerp",
                List.of("model_a", "model_b"), DType.BF16, (n, x, s) -> slerp(0.35, x[0], x[1]));
    }

    static Stream<Arguments> nuslerpCases() {
        List<Arguments> res = new ArrayList<>();
        for (String base : new String[]{null, "model_c"}) {
            for (boolean rowWise : new boolean[]{false, true}) {
                for (boolean flatten : new boolean[]{false, true}) {
                    res.add(Arguments.of(base, rowWise, flatten));
                }
            }
        }
        return res.stream();
    }

    /** test_nuslerp_merges: base None and model_c, row_wise and flatten both ways. */
    @ParameterizedTest(name = "base={0} row_wise={1} flatten={2}")
    @MethodSource("nuslerpCases")
    void testNuslerpMerges(String base, boolean rowWise, boolean flatten) {
        String yaml = twoModelConfig("model_a", "model_b", "nuslerp", base,
                "{nuslerp_row_wise: " + rowWise + ", nuslerp_flatten: " + flatten + "}");
        List<String> inputs = base == null ? List.of("model_a", "model_b") : List.of("model_a", "model_b", base);
        check(yaml, "nuslerp-" + base + rowWise + flatten, inputs, DType.BF16,
                (n, x, s) -> nuslerpTensor(0.4, x, base != null, rowWise, flatten, s));
    }

    /** test_nuslerp_merges' last case: weights -0.5 and 0.5 sum to zero, so t = 0.5. */
    @Test
    void testNuslerpWeightsThatSumToZero() {
        String yaml = twoModelConfig("model_a", "model_b", "nuslerp", "model_c",
                "{nuslerp_row_wise: false, nuslerp_flatten: false}").replace("0.6}", "-0.5}").replace("0.4}", "0.5}");
        check(yaml, "nuslerp-zero", List.of("model_a", "model_b", "model_c"), DType.BF16,
                (n, x, s) -> nuslerpTensor(0.5, x, true, false, false, s));
    }

    @Test
    void testTaskArithmeticMerge() {
        check(twoModelConfig("model_a", "model_b", "task_arithmetic", "model_c", null), "task_arithmetic",
                List.of("model_a", "model_b", "model_c"), DType.BF16,
                twoModelGta(1, 0, NaiveMerges.Thinning.NONE, false, false, false));
    }

    @Test
    void testBreadcrumbsMerge() {
        // density defaults to 1: mergekit's magnitude_outliers returns the task vector unchanged
        check(twoModelConfig("model_a", "model_b", "breadcrumbs", "model_c", null), "breadcrumbs",
                List.of("model_a", "model_b", "model_c"), DType.BF16,
                twoModelGta(1, 0.01, NaiveMerges.Thinning.MAGNITUDE_OUTLIERS, false, false, false));
    }

    @Test
    void testTiesMerge() {
        check(twoModelConfig("model_a", "model_b", "ties", "model_c", "{density: 0.3}"), "ties",
                List.of("model_a", "model_b", "model_c"), DType.BF16,
                twoModelGta(0.3, 0, NaiveMerges.Thinning.MAGNITUDE, true, true, false));
    }

    @Test
    void testSceMerge() {
        check(twoModelConfig("model_a", "model_b", "sce", "model_c", "{select_topk: 0.5}"), "sce",
                List.of("model_a", "model_b", "model_c"), DType.BF16, (n, x, s) -> NaiveMerges.sce(x, 2, 0.5));
    }

    @Test
    void testRamMerge() {
        check(twoModelConfig("model_a", "model_b", "ram", "model_c", null), "ram",
                List.of("model_a", "model_b", "model_c"), DType.BF16, (n, x, s) -> ram(x, 2, false, 0, 0, 1e-5));
    }

    @Test
    void testRamplusTlMerge() {
        check(twoModelConfig("model_a", "model_b", "ramplus_tl", "model_c", "{r: 0.05, alpha: 1.0}"), "ramplus",
                List.of("model_a", "model_b", "model_c"), DType.BF16, (n, x, s) -> ram(x, 2, true, 0.05, 1.0, 1e-5));
    }

    /**
     * Beyond mergekit's tests (whose independent random models change every element in both models, so RAM's
     * unique branch is almost never taken): fine-tunes of model_c that each change a random 40% of its elements,
     * so about half of the changed elements are changed by one model only.
     */
    @Test
    void ramAndRamplusOnSparseTaskVectors() throws IOException {
        Path base = dir.resolve("model_c");
        sparseVariant(base, dir.resolve("sparse_a"), 41, 0.4);
        sparseVariant(base, dir.resolve("sparse_b"), 42, 0.4);
        check(twoModelConfig("sparse_a", "sparse_b", "ram", "model_c", null), "ram_sparse",
                List.of("sparse_a", "sparse_b", "model_c"), DType.BF16, (n, x, s) -> ram(x, 2, false, 0, 0, 1e-5));
        check(twoModelConfig("sparse_a", "sparse_b", "ramplus_tl", "model_c", "{r: 0.05, alpha: 1.0}"),
                "ramplus_sparse", List.of("sparse_a", "sparse_b", "model_c"), DType.BF16,
                (n, x, s) -> ram(x, 2, true, 0.05, 1.0, 1e-5));
        check(twoModelConfig("sparse_a", "sparse_b", "ramplus_tl", "model_c", null), "ramplus_sparse_default",
                List.of("sparse_a", "sparse_b", "model_c"), DType.BF16, (n, x, s) -> ram(x, 2, true, 0.1, 0.2, 1e-5));
    }

    /** A copy of a model in which a random {@code fraction} of each tensor's elements is moved by up to 0.05. */
    private static void sparseVariant(Path base, Path out, long seed, double fraction) throws IOException {
        Files.createDirectories(out);
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(base.resolve(f), out.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Map<String, float[]> t = tensors(base);
        List<dev.amalgam.modelio.TensorSpec> specs = t.keySet().stream()
                .map(n -> new dev.amalgam.modelio.TensorSpec(n, DType.F32, shape(base, n))).toList();
        try (dev.amalgam.modelio.ShardedCheckpointWriter w = dev.amalgam.modelio.ShardedCheckpointWriter.create(out,
                specs, Long.MAX_VALUE)) {
            for (Map.Entry<String, float[]> e : t.entrySet()) {
                SplittableRandom r = new SplittableRandom(seed * 7919 + e.getKey().hashCode());
                float[] v = e.getValue().clone();
                for (int i = 0; i < v.length; i++) {
                    if (r.nextDouble() < fraction) {
                        v[i] += (float) (r.nextDouble() - 0.5) * 0.1f;
                    }
                }
                w.write(e.getKey(), v);
            }
        }
    }

    @Test
    void testMultislerpMerge() {
        check(twoModelConfig("model_a", "model_b", "multislerp", "model_c", null), "multislerp",
                List.of("model_a", "model_b", "model_c"), DType.BF16,
                (n, x, s) -> multislerp(x, 2, new double[]{0.6, 0.4}, true, 1e-8));
    }

    @Test
    void testDareTiesMerge() {
        check(twoModelConfig("model_a", "model_b", "dare_ties", "model_c", "{density: 0.66}"), "dare_ties",
                List.of("model_a", "model_b", "model_c"), DType.BF16,
                twoModelGta(0.66, 0, NaiveMerges.Thinning.RANDOM, true, false, true));
    }

    @Test
    void testModelStockMerge() {
        // two_model_config(model_b, model_c, base_model=model_a): the base is appended as the last input
        check(twoModelConfig("model_b", "model_c", "model_stock", "model_a", null), "model_stock",
                List.of("model_b", "model_c", "model_a"), DType.BF16, (n, x, s) -> modelStock(x, 2, false, s));
    }

    @Test
    void testModelStockFilterwiseMerge() {
        check(twoModelConfig("model_b", "model_c", "model_stock", "model_a", "{filter_wise: true}"),
                "model_stock_fw", List.of("model_b", "model_c", "model_a"), DType.BF16,
                (n, x, s) -> modelStock(x, 2, true, s));
    }

    @Test
    void testArceeFusionMerge() {
        check(twoModelConfig("model_a", "model_b", "arcee_fusion", "model_a", null), "arcee_fusion",
                List.of("model_a", "model_b"), DType.BF16, (n, x, s) -> arceeFusion(x[0], x[1], s));
    }

    @Test
    void testNearswapMerge() {
        check(twoModelConfig("model_a", "model_b", "nearswap", "model_a", "{t: 0.0001}"), "nearswap",
                List.of("model_a", "model_b"), DType.BF16, (n, x, s) -> nearswap(0.0001, x[0], x[1]));
    }

    @Test
    void testDellaMerge() {
        check(twoModelConfig("model_a", "model_b", "della", "model_c", "{density: 0.66, epsilon: 0.05, lambda: 0.5}"),
                "della", List.of("model_a", "model_b", "model_c"), DType.BF16,
                (n, x, s) -> NaiveMerges.taskArithmetic(x, 2, gtaParams(3, new double[]{0.6, 0.4}, 0.66, 0, 0.05),
                        NaiveMerges.Thinning.DELLA, true, true, true, 0.5, tensorSeed(n), columns(s)));
    }

    /** test_della_invalid_epsilon: mergekit raises ValueError (density + epsilon beyond 1); so does this. */
    @Test
    void testDellaInvalidEpsilon() {
        assertThatThrownBy(() -> run(twoModelConfig("model_a", "model_b", "della", "model_c",
                "{density: 0.66, epsilon: 1.35, lambda: 0.5}"), "della_bad"))
                .isInstanceOf(MergeConfigException.class).hasMessageContaining("epsilon");
    }

    @Test
    void testKarcherMerge() {
        // karcher ignores the base: mergekit's normalize_config makes model_c a third input, averaged equally
        check(twoModelConfig("model_a", "model_b", "karcher", "model_c", "{max_iter: 5, tol: 1e-5}"), "karcher",
                List.of("model_a", "model_b", "model_c"), DType.BF16, (n, x, s) -> karcher(x, 5, 1e-5));
    }

    @Test
    void testPassthroughScale() {
        // no dtype: the output keeps the models' FP32
        check("""
                merge_method: passthrough
                models:
                  - model: model_a
                    parameters:
                      scale:
                        - filter: o_proj
                          value: 0
                        - value: 1
                """, "passthrough_scale", List.of("model_a"), DType.F32, (n, x, s) -> {
            float[] r = x[0].clone();
            for (int i = 0; i < r.length; i++) {
                r[i] = n.contains("o_proj") ? 0f : r[i];
            }
            return r;
        });
    }

    /** TestGraniteMerges: test_granite_copy, test_granite_linear_merge, test_granite_slerp. */
    @Test
    void testGraniteMerges() {
        check("""
                merge_method: passthrough
                models: [{model: granite_a}]
                dtype: bfloat16
                """, "granite_copy", List.of("granite_a"), DType.BF16, (n, x, s) -> x[0]);
        check(twoModelConfig("granite_a", "granite_b", "linear", null, null), "granite_linear",
                List.of("granite_a", "granite_b"), DType.BF16,
                (n, x, s) -> NaiveMerges.linear(x, new double[]{0.6, 0.4}, true));
        check("""
                merge_method: slerp
                base_model: granite_a
                models: [{model: granite_a}, {model: granite_b}]
                parameters: {t: 0.5}
                dtype: bfloat16
                """, "granite_slerp", List.of("granite_a", "granite_b"), DType.BF16, (n, x, s) -> slerp(0.5, x[0], x[1]));
    }

    // ---------------------------------------------------------------- GPT-2 and Llava models of test_basic_merges.py

    /**
     * make_gpt2size's layout (GPT2LMHeadModel, 12 layers, tied head) at a tiny width: mergekit's test model has
     * GPT-2's 124M parameters, which a unit test need not write.
     */
    private static synchronized Path gpt2() {
        Path p = dir.resolve("gpt2_like");
        if (Files.isDirectory(p)) {
            return p;
        }
        int h = 16;
        Map<String, long[]> t = new LinkedHashMap<>();
        t.put("transformer.wte.weight", new long[]{50, h});
        t.put("transformer.wpe.weight", new long[]{32, h});
        for (int l = 0; l < 12; l++) {
            String q = "transformer.h." + l + ".";
            t.put(q + "ln_1.weight", new long[]{h});
            t.put(q + "ln_1.bias", new long[]{h});
            t.put(q + "attn.c_attn.weight", new long[]{h, 3 * h});
            t.put(q + "attn.c_attn.bias", new long[]{3 * h});
            t.put(q + "attn.c_proj.weight", new long[]{h, h});
            t.put(q + "attn.c_proj.bias", new long[]{h});
            t.put(q + "ln_2.weight", new long[]{h});
            t.put(q + "ln_2.bias", new long[]{h});
            t.put(q + "mlp.c_fc.weight", new long[]{h, 4 * h});
            t.put(q + "mlp.c_fc.bias", new long[]{4 * h});
            t.put(q + "mlp.c_proj.weight", new long[]{4 * h, h});
            t.put(q + "mlp.c_proj.bias", new long[]{h});
        }
        t.put("transformer.ln_f.weight", new long[]{h});
        t.put("transformer.ln_f.bias", new long[]{h});
        return dev.amalgam.merge.TinyCheckpoint.write(p, Map.of("architectures", List.of("GPT2LMHeadModel"),
                "model_type", "gpt2", "n_layer", 12, "n_embd", h, "n_head", 2, "n_positions", 32, "vocab_size", 50,
                "tie_word_embeddings", true), t, 50, 31, 0);
    }

    @Test
    void testGpt2Copy() {
        gpt2();
        check("""
                merge_method: passthrough
                models: [{model: gpt2_like}]
                dtype: bfloat16
                """, "gpt2_copy", List.of("gpt2_like"), DType.BF16, (n, x, s) -> x[0]);
    }

    /** test_gpt2_stack: the 12 layers twice; n_layer 24, output layer i is input layer i mod 12. */
    @Test
    void testGpt2Stack() {
        Path in = gpt2();
        MergeResult r = run("""
                merge_method: passthrough
                slices:
                  - sources: [{model: gpt2_like, layer_range: [0, 12]}]
                  - sources: [{model: gpt2_like, layer_range: [0, 12]}]
                dtype: bfloat16
                """, "gpt2_stack");
        assertThat(JSON.readTree(r.outDir().resolve("config.json").toFile()).get("n_layer").intValue()).isEqualTo(24);
        Map<String, float[]> got = tensors(r.outDir());
        Map<String, float[]> x = tensors(in);
        assertThat(got).hasSize(2 + 24 * 12 + 2);
        for (Map.Entry<String, float[]> e : got.entrySet()) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\.h\\.(\\d+)\\.").matcher(e.getKey());
            String src = m.find() ? e.getKey().replace(".h." + m.group(1) + ".", ".h." + Integer.parseInt(m.group(1)) % 12
                    + ".") : e.getKey();
            assertClose(e.getValue(), x.get(src), DType.BF16, e.getKey());
        }
    }

    /**
     * make_picoLlaVa's layout: a language_model.* Llama of vocabulary 64, hidden 32, 2 layers; a CLIP vision tower
     * of image size 32, patch 4 (65 positions), 2 layers of width 64 and MLP width 128; the projector to 32.
     */
    private static synchronized void vlms() {
        for (String name : List.of("vlm_a", "vlm_b", "vlm_c")) {
            Path p = dir.resolve(name);
            if (Files.isDirectory(p)) {
                continue;
            }
            Map<String, long[]> t = new LinkedHashMap<>();
            for (Map.Entry<String, float[]> e : tensors(dir.resolve("model_a")).entrySet()) {
                t.put("language_model." + e.getKey(), shape(dir.resolve("model_a"), e.getKey()));
            }
            t.putAll(dev.amalgam.merge.TinyLlavaCheckpoint.visionAndProjector(64, 128, 2, 4, 65, 32));
            dev.amalgam.merge.TinyCheckpoint.write(p, Map.of("architectures", List.of("LlavaForConditionalGeneration"),
                    "model_type", "llava", "text_config", Map.of("num_hidden_layers", 2, "vocab_size", 64,
                            "hidden_size", 32, "model_type", "llama"), "vision_config", Map.of("hidden_size", 64,
                            "num_hidden_layers", 2, "intermediate_size", 128, "patch_size", 4, "image_size", 32,
                            "model_type", "clip_vision_model")),
                    t, 64, name.hashCode(), 0);
        }
    }

    /**
     * A Llava merge: as mergekit's inferred multi-module layout does, every tensor (language model, vision tower,
     * projector) is merged with the method, each checked against the reference.
     */
    private static void checkVlm(String yaml, String out, List<String> inputs, Reference ref) {
        vlms();
        check(yaml, out, inputs, DType.BF16, ref);
    }

    @Test
    void testLinearVlmMerge() {
        checkVlm(twoModelConfig("vlm_a", "vlm_b", "linear", null, null), "vlm_linear", List.of("vlm_a", "vlm_b"),
                (n, x, s) -> NaiveMerges.linear(x, new double[]{0.6, 0.4}, true));
    }

    @Test
    void testSlerpVlmMerge() {
        checkVlm(twoModelConfig("vlm_a", "vlm_b", "slerp", "vlm_a", "{t: 0.35}"), "vlm_slerp", List.of("vlm_a", "vlm_b"),
                (n, x, s) -> slerp(0.35, x[0], x[1]));
    }

    @ParameterizedTest(name = "base={0} row_wise={1} flatten={2}")
    @MethodSource("nuslerpCases")
    void testNuslerpVlmMerges(String base, boolean rowWise, boolean flatten) {
        String b = base == null ? null : "vlm_c";
        List<String> inputs = b == null ? List.of("vlm_a", "vlm_b") : List.of("vlm_a", "vlm_b", "vlm_c");
        checkVlm(twoModelConfig("vlm_a", "vlm_b", "nuslerp", b, "{nuslerp_row_wise: " + rowWise + ", nuslerp_flatten: "
                        + flatten + "}"), "vlm_nuslerp" + b + rowWise + flatten, inputs,
                (n, x, s) -> nuslerpTensor(0.4, x, b != null, rowWise, flatten, s));
    }

    @Test
    void testNuslerpVlmWeightsThatSumToZero() {
        String yaml = twoModelConfig("vlm_a", "vlm_b", "nuslerp", "vlm_c",
                "{nuslerp_row_wise: false, nuslerp_flatten: false}").replace("0.6}", "-0.5}").replace("0.4}", "0.5}");
        checkVlm(yaml, "vlm_nuslerp_zero", List.of("vlm_a", "vlm_b", "vlm_c"),
                (n, x, s) -> nuslerpTensor(0.5, x, true, false, false, s));
    }

    @Test
    void testTaskArithmeticVlmMerge() {
        checkVlm(twoModelConfig("vlm_a", "vlm_b", "task_arithmetic", "vlm_c", null), "vlm_ta",
                List.of("vlm_a", "vlm_b", "vlm_c"),
                twoModelGta(1, 0, NaiveMerges.Thinning.NONE, false, false, false));
    }

    @Test
    void testBreadcrumbsVlmMerge() {
        checkVlm(twoModelConfig("vlm_a", "vlm_b", "breadcrumbs", "vlm_c", null), "vlm_breadcrumbs",
                List.of("vlm_a", "vlm_b", "vlm_c"),
                twoModelGta(1, 0.01, NaiveMerges.Thinning.MAGNITUDE_OUTLIERS, false, false, false));
    }

    @Test
    void testTiesVlmMerge() {
        checkVlm(twoModelConfig("vlm_a", "vlm_b", "ties", "vlm_c", "{density: 0.3}"), "vlm_ties",
                List.of("vlm_a", "vlm_b", "vlm_c"),
                twoModelGta(0.3, 0, NaiveMerges.Thinning.MAGNITUDE, true, true, false));
    }

    @Test
    void testDareTiesVlmMerge() {
        checkVlm(twoModelConfig("vlm_a", "vlm_b", "dare_ties", "vlm_c", "{density: 0.66}"), "vlm_dare_ties",
                List.of("vlm_a", "vlm_b", "vlm_c"),
                twoModelGta(0.66, 0, NaiveMerges.Thinning.RANDOM, true, false, true));
    }

    @Test
    void testModelStockVlmMerge() {
        checkVlm(twoModelConfig("vlm_b", "vlm_c", "model_stock", "vlm_a", null), "vlm_model_stock",
                List.of("vlm_b", "vlm_c", "vlm_a"), (n, x, s) -> modelStock(x, 2, false, s));
    }

    @Test
    void testModelStockFilterwiseVlmMerge() {
        checkVlm(twoModelConfig("vlm_b", "vlm_c", "model_stock", "vlm_a", "{filter_wise: true}"), "vlm_model_stock_fw",
                List.of("vlm_b", "vlm_c", "vlm_a"), (n, x, s) -> modelStock(x, 2, true, s));
    }

    // ---------------------------------------------------------------- tests/test_tokenizer.py

    private static String tokenizerConfig(List<String> models, String method, String tokenizer, String extra) {
        StringBuilder b = new StringBuilder("merge_method: " + method + "\nbase_model: model_base\nmodels:\n");
        models.forEach(m -> b.append("  - model: ").append(m).append("\n    parameters: {weight: 1.0}\n"));
        b.append("dtype: float32\n");
        if (tokenizer != null) {
            b.append(tokenizer).append("\n");
        }
        if (extra != null) {
            b.append(extra).append("\n");
        }
        return b.toString();
    }

    private record Vocab(Map<String, Integer> ids, int added) {
    }

    private static Vocab vocab(Path model) {
        JsonNode tok = JSON.readTree(model.resolve("tokenizer.json").toFile());
        Map<String, Integer> ids = new LinkedHashMap<>();
        tok.path("model").path("vocab").properties().forEach(e -> ids.put(e.getKey(), e.getValue().intValue()));
        tok.path("added_tokens").forEach(t -> ids.put(t.get("content").asString(), t.get("id").intValue()));
        return new Vocab(ids, tok.path("added_tokens").size());
    }

    private static List<Integer> addedIds(Path model) {
        List<Integer> ids = new ArrayList<>();
        JSON.readTree(model.resolve("tokenizer.json").toFile()).path("added_tokens")
                .forEach(t -> ids.add(t.get("id").intValue()));
        return ids;
    }

    private static float[] row(Path model, String tensor, int row) {
        try (HfModelDir m = HfModelDir.open(model)) {
            int cols = (int) m.info(tensor).shape()[1];
            float[] r = new float[cols];
            m.tensor(tensor).readFloats((long) row * cols, r, 0, cols);
            return r;
        }
    }

    private static float[] mean(float[]... rows) {
        float[] m = new float[rows[0].length];
        for (int c = 0; c < m.length; c++) {
            float s = 0;
            for (float[] r : rows) {
                s += r[c];
            }
            m[c] = s / rows.length;
        }
        return m;
    }

    /**
     * Checks the embeddings and the head of a tokenizer merge (linear, weights 1): each output token's row is the
     * mean over the models of that model's row for the token, or, for a model that lacks it, the row mergekit's
     * rule gives (its only holder, else the base).
     */
    private static void checkTokenRows(Path out, List<String> models) {
        Map<String, Integer> outIds = vocab(out).ids();
        List<Map<String, Integer>> ids = models.stream().map(m -> vocab(dir.resolve(m)).ids()).toList();
        for (String tensor : List.of("model.embed_tokens.weight", "lm_head.weight")) {
            for (Map.Entry<String, Integer> e : outIds.entrySet()) {
                List<float[]> rows = new ArrayList<>();
                List<Integer> holders = new ArrayList<>();
                for (int m = 0; m < models.size(); m++) {
                    Integer id = ids.get(m).get(e.getKey());
                    long rowsOf = shape(dir.resolve(models.get(m)), tensor)[0];
                    if (id != null && id < rowsOf) {
                        holders.add(m);
                    }
                }
                for (int m = 0; m < models.size(); m++) {
                    int src = holders.contains(m) ? m : holders.size() == 1 ? holders.get(0) : 0; // 0: model_base
                    rows.add(row(dir.resolve(models.get(src)), tensor, ids.get(src).get(e.getKey())));
                }
                assertClose(row(out, tensor, e.getValue()), mean(rows.toArray(float[][]::new)), DType.F32,
                        tensor + " " + e.getKey());
            }
        }
    }

    @Test
    void testLegacyMode() {
        MergeResult r = run(tokenizerConfig(List.of("model_base", "model_padded", "model_chatml"), "linear", null,
                null), "tok_legacy");
        assertThat(vocab(r.outDir()).ids()).hasSize(64);
        assertThat(vocab(r.outDir()).added()).isEqualTo(3);
        // without a tokenizer source the common 64 rows are averaged row by row
        float[] e = row(r.outDir(), "model.embed_tokens.weight", 63);
        assertClose(e, mean(row(dir.resolve("model_base"), "model.embed_tokens.weight", 63),
                row(dir.resolve("model_padded"), "model.embed_tokens.weight", 63),
                row(dir.resolve("model_chatml"), "model.embed_tokens.weight", 63)), DType.F32, "row 63");
    }

    @Test
    void testSourceBase() {
        MergeResult r = run(tokenizerConfig(List.of("model_base", "model_padded", "model_chatml"), "linear",
                "tokenizer_source: base", null), "tok_base");
        assertThat(vocab(r.outDir()).ids()).hasSize(64);
        assertThat(vocab(r.outDir()).added()).isEqualTo(3);
        checkTokenRows(r.outDir(), List.of("model_base", "model_padded", "model_chatml"));
    }

    @Test
    void testSourceUnion() {
        MergeResult r = run(tokenizerConfig(List.of("model_base", "model_padded", "model_chatml"), "linear",
                "tokenizer_source: union", null), "tok_union");
        Vocab v = vocab(r.outDir());
        assertThat(v.ids()).hasSize(66).containsKeys("<|im_start|>", "<|im_end|>")
                .doesNotContainKeys("<UNUSED_0>", "<UNUSED_1>", "<UNUSED_2>", "<UNUSED_3>");
        assertThat(v.added()).isEqualTo(5);
        // <|im_start|> and <|im_end|> only model_chatml has: every model takes its row
        assertClose(row(r.outDir(), "model.embed_tokens.weight", v.ids().get("<|im_start|>")),
                row(dir.resolve("model_chatml"), "model.embed_tokens.weight", 64), DType.F32, "<|im_start|>");
        checkTokenRows(r.outDir(), List.of("model_base", "model_padded", "model_chatml"));
    }

    @Test
    void testSourceModel() {
        MergeResult r = run(tokenizerConfig(List.of("model_base", "model_padded", "model_chatml"), "linear",
                "tokenizer_source: model_chatml", null), "tok_model");
        assertThat(vocab(r.outDir()).ids()).hasSize(66).containsKeys("<|im_start|>", "<|im_end|>");
        checkTokenRows(r.outDir(), List.of("model_base", "model_padded", "model_chatml"));
    }

    @Test
    void testSlerpUnion() {
        MergeResult r = run(tokenizerConfig(List.of("model_base", "model_chatml"), "slerp", "tokenizer_source: union",
                "parameters: {t: 0.5}"), "tok_slerp");
        assertThat(vocab(r.outDir()).ids()).hasSize(66).containsKeys("<|im_start|>", "<|im_end|>");
        // the tokens only model_chatml has (ids 64, 65 in both): model_base's input takes model_chatml's rows, then
        // slerp runs over the whole remapped tensors
        for (String t : List.of("model.embed_tokens.weight", "lm_head.weight")) {
            float[] base = tensors(dir.resolve("model_base")).get(t);
            float[] chatml = tensors(dir.resolve("model_chatml")).get(t);
            float[] baseRemapped = java.util.Arrays.copyOf(base, chatml.length);
            System.arraycopy(chatml, 64 * 32, baseRemapped, 64 * 32, 2 * 32);
            assertThat(vocab(r.outDir()).ids()).containsEntry("<|im_start|>", 64).containsEntry("<|im_end|>", 65);
            assertClose(tensors(r.outDir()).get(t), slerp(0.5, baseRemapped, chatml), DType.F32, t);
        }
    }

    @Test
    void testForceToken() {
        MergeResult r = run(tokenizerConfig(List.of("model_base", "model_chatml"), "linear", """
                tokenizer:
                  source: union
                  tokens:
                    _tok_10: {source: model_chatml, force: true}
                    _tok_11: {source: model_base, force: true}""", null), "tok_force");
        Vocab v = vocab(r.outDir());
        assertThat(v.ids()).hasSize(66).containsKeys("<|im_start|>", "<|im_end|>");
        // mergekit calls add_tokens for each listed token: _tok_10 and _tok_11 become added tokens with their ids
        assertThat(addedIds(r.outDir())).containsExactly(0, 1, 2, 10, 11, 64, 65);
        for (String t : List.of("model.embed_tokens.weight", "lm_head.weight")) {
            assertClose(row(r.outDir(), t, v.ids().get("_tok_10")), row(dir.resolve("model_chatml"), t, 10), DType.F32,
                    t + " _tok_10 from model_chatml");
            assertClose(row(r.outDir(), t, v.ids().get("_tok_11")), row(dir.resolve("model_base"), t, 11), DType.F32,
                    t + " _tok_11 from model_base");
            // an unforced token both models have: the mean
            assertClose(row(r.outDir(), t, v.ids().get("_tok_12")), mean(row(dir.resolve("model_base"), t, 12),
                    row(dir.resolve("model_chatml"), t, 12)), DType.F32, t + " _tok_12");
        }
    }

    @Test
    void testModelTokenId() {
        MergeResult r = run(tokenizerConfig(List.of("model_base", "model_chatml"), "linear", """
                tokenizer:
                  source: base
                  tokens:
                    _tok_20:
                      source: {kind: model_token, model: model_chatml, token_id: 64}
                      force: true
                    _tok_21:
                      source: {kind: model_token, model: model_base, token: "<s>"}
                      force: true""", null), "tok_model_token");
        Vocab v = vocab(r.outDir());
        assertThat(v.ids()).hasSize(64).containsKey("_tok_10");
        for (String t : List.of("model.embed_tokens.weight", "lm_head.weight")) {
            assertClose(row(r.outDir(), t, 20), row(dir.resolve("model_chatml"), t, 64), DType.F32,
                    t + " _tok_20 == model_chatml token 64");
            assertClose(row(r.outDir(), t, 21), row(dir.resolve("model_base"), t, 1), DType.F32,
                    t + " _tok_21 == model_base <s>");
        }
    }

    @Test
    void testPadToMultipleOf() throws IOException {
        MergeResult r = run("""
                merge_method: linear
                base_model: model_chatml
                models: [{model: model_chatml, parameters: {weight: 1.0}}]
                dtype: float32
                tokenizer: {source: base, pad_to_multiple_of: 16}
                """, "tok_pad");
        int padded = (66 / 16 + 1) * 16;
        assertThat(JSON.readTree(r.outDir().resolve("config.json").toFile()).get("vocab_size").intValue())
                .isEqualTo(padded);
        assertThat(vocab(r.outDir()).ids()).hasSize(66).containsKeys("<|im_start|>", "<|im_end|>");
        assertThat(shape(r.outDir(), "model.embed_tokens.weight")[0]).isEqualTo(padded);
    }

    /** Beyond mergekit's tests: a zero source, and a new token added to the tokenizer with another token's row. */
    @Test
    void zeroSourceAndAddedTokens() {
        MergeResult r = run(tokenizerConfig(List.of("model_base", "model_chatml"), "linear", """
                tokenizer:
                  source: base
                  tokens:
                    _tok_5: {source: {kind: zero}, force: "yes"}
                    <new>: {source: {kind: model_token, model: model_chatml, token: "<|im_end|>"}}""", null),
                "tok_zero");
        Vocab v = vocab(r.outDir());
        assertThat(v.ids()).hasSize(65).containsEntry("<new>", 64).containsEntry("_tok_5", 5);
        // the base's 3 special tokens, <new>, and _tok_5 marked as added (tokenizers' add_tokens on a vocab token)
        assertThat(v.added()).isEqualTo(5);
        assertThat(addedIds(r.outDir())).containsExactly(0, 1, 2, 5, 64);
        assertThat(row(r.outDir(), "model.embed_tokens.weight", 5)).containsOnly(0f);
        assertClose(row(r.outDir(), "lm_head.weight", 64), row(dir.resolve("model_chatml"), "lm_head.weight", 65),
                DType.F32, "<new>");
    }

    /** What mergekit's pydantic config or its PermutedEmbeddings fails on is a problem naming the token. */
    @Test
    void tokenizerTokensProblemsNameTheToken() {
        MergeConfigException e = org.assertj.core.api.Assertions.catchThrowableOfType(MergeConfigException.class,
                () -> MergeConfig.parseYaml("""
                        merge_method: linear
                        models: [{model: model_base, parameters: {weight: 1}}]
                        tokenizer:
                          source: base
                          tokens:
                            a: {force: true}
                            b: {source: {kind: nope}}
                            c: {source: {kind: model_token, model: model_base, token_id: 3, token: x}}
                            d: {source: {kind: model_token, model: model_base}}
                            e: {source: model_base, force: maybe}
                            f: {source: other}
                        """));
        assertThat(e.problems()).anySatisfy(p -> assertThat(p).startsWith("tokenizer.tokens[a].source is required"))
                .anySatisfy(p -> assertThat(p).startsWith("tokenizer.tokens[b].source.kind must be model_token or zero"))
                .anySatisfy(p -> assertThat(p).startsWith("tokenizer.tokens[c].source: give exactly one of token_id"))
                .anySatisfy(p -> assertThat(p).startsWith("tokenizer.tokens[d].source: give exactly one of token_id"))
                .anySatisfy(p -> assertThat(p).startsWith("tokenizer.tokens[e].force must be true or false"))
                .anySatisfy(p -> assertThat(p).startsWith(
                        "tokenizer.tokens[f].source: model 'other' is not one of the merged models"));
        for (String[] c : new String[][]{
            {"<new>: {source: model_base}", "tokenizer.tokens[<new>] (model.embed_tokens.weight): token not found in"
                    + " model 'model_base'"},
            {"_tok_3: {source: {kind: model_token, model: model_base, token_id: 64}}",
                "tokenizer.tokens[_tok_3] (model.embed_tokens.weight): token id 64 is out of range for model"
                        + " 'model_base' (64 rows)"},
            {"_tok_3: {source: {kind: model_token, model: model_base, token: \"<|im_start|>\"}}",
                "tokenizer.tokens[_tok_3] (model.embed_tokens.weight): token <|im_start|> not found in model"
                        + " 'model_base'"}}) {
            assertThatThrownBy(() -> run(tokenizerConfig(List.of("model_base", "model_chatml"), "linear",
                    "tokenizer:\n  source: base\n  tokens:\n    " + c[0], null), "tok_bad"))
                    .isInstanceOf(MergeConfigException.class).hasMessageContaining(c[1]);
        }
    }

    // ---------------------------------------------------------------- tests/test_chat_template.py

    @Test
    void testTemplateChatml() throws IOException {
        MergeResult r = run("""
                merge_method: linear
                models:
                  - {model: model_base, parameters: {weight: 0.5}}
                  - {model: model_notok, parameters: {weight: 0.5}}
                base_model: model_base
                dtype: bfloat16
                chat_template: chatml
                """, "chat_chatml");
        assertThat(JSON.readTree(r.outDir().resolve("tokenizer_config.json").toFile()).get("chat_template").asString())
                .contains("<|im_start|>");
    }

    @Test
    void testTemplateLiteralJinja() throws IOException {
        MergeResult r = run("""
                merge_method: linear
                models:
                  - {model: model_base, parameters: {weight: 0.5}}
                  - {model: model_notok, parameters: {weight: 0.5}}
                base_model: model_base
                dtype: bfloat16
                chat_template: "{{messages[0]['content']}}"
                """, "chat_literal");
        assertThat(JSON.readTree(r.outDir().resolve("tokenizer_config.json").toFile()).get("chat_template").asString())
                .contains("{{messages[0]['content']}}");
    }

    // ---------------------------------------------------------------- examples/

    /** The Hub names of examples/ as local directories (ModelResolver.paths resolves owner/name under dir). */
    private static final List<String> LLAMA_13B = List.of("psmathur/orca_mini_v3_13b", "WizardLM/WizardLM-13B-V1.2",
            "garage-bAInd/Platypus2-13B", "WizardLM/WizardMath-13B-V1.0", "TheBloke/Llama-2-13B-fp16");
    private static final List<String> MISTRAL_7B = List.of("mistralai/Mistral-7B-Instruct-v0.2",
            "BioMistral/BioMistral-7B", "mistralai/Mistral-7B-v0.1");
    /** Llama-2-13B's 40 layers, at a tiny width. */
    private static final TinyLlama LLAMA_40 = new TinyLlama(32, 16, 24, 40, 4, 4, false, DType.F32);

    private static synchronized void exampleModels() throws IOException {
        if (Files.isDirectory(dir.resolve(LLAMA_13B.get(0)))) {
            return;
        }
        for (int i = 0; i < LLAMA_13B.size(); i++) {
            LLAMA_40.write(dir.resolve(LLAMA_13B.get(i)), 100 + i);
        }
        for (int i = 0; i < MISTRAL_7B.size(); i++) {
            Path m = dir.resolve(MISTRAL_7B.get(i));
            PICO.write(m, 200 + i);
            ObjectNode c = (ObjectNode) JSON.readTree(m.resolve("config.json").toFile());
            c.putArray("architectures").add("MistralForCausalLM");
            c.put("model_type", "mistral");
            Files.writeString(m.resolve("config.json"), JSON.writeValueAsString(c));
        }
    }

    /** The layer position t = layer / (layers - 1) of a layer tensor, 0 for the tensors outside the layers. */
    private static double layerT(String tensor, int layers) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\.layers\\.(\\d+)\\.").matcher(tensor);
        return m.find() ? Integer.parseInt(m.group(1)) / (double) (layers - 1) : 0.0;
    }

    /** examples/linear.yml. */
    @Test
    void exampleLinear() throws IOException {
        exampleModels();
        check("""
                models:
                  - model: psmathur/orca_mini_v3_13b
                    parameters:
                      weight: 1.0
                  - model: WizardLM/WizardLM-13B-V1.2
                    parameters:
                      weight: 0.3
                  - model: garage-bAInd/Platypus2-13B
                    parameters:
                      weight: 0.5
                merge_method: linear
                dtype: float16
                """, "ex_linear", LLAMA_13B.subList(0, 3), DType.F16,
                (n, x, s) -> NaiveMerges.linear(x, new double[]{1.0, 0.3, 0.5}, true));
    }

    /** examples/ties.yml: density and weight gradients over the 40 layers, a weight filter on mlp. */
    @Test
    void exampleTies() throws IOException {
        exampleModels();
        check("""
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
                """, "ex_ties", List.of(LLAMA_13B.get(0), LLAMA_13B.get(2), LLAMA_13B.get(3), LLAMA_13B.get(4)),
                DType.F16, (n, x, s) -> {
                    double t = layerT(n, 40);
                    NaiveMerges.ModelParams[] p = {
                        new NaiveMerges.ModelParams(1.0, gradient(new double[]{1, 0.7, 0.1}, t), 0, 0),
                        new NaiveMerges.ModelParams(gradient(new double[]{0, 0.3, 0.7, 1}, t), 0.5, 0, 0),
                        new NaiveMerges.ModelParams(n.contains("mlp") ? 0.5 : 0, 0.33, 0, 0),
                        new NaiveMerges.ModelParams(0, 1, 0, 0)};
                    return NaiveMerges.taskArithmetic(x, 3, p, NaiveMerges.Thinning.MAGNITUDE, true, true, false, 1,
                            tensorSeed(n), columns(s));
                });
    }

    /** examples/bio-merge.yml: TIES without normalize on Mistral models. */
    @Test
    void exampleBioMerge() throws IOException {
        exampleModels();
        check("""
                models:
                  - model: mistralai/Mistral-7B-Instruct-v0.2
                    parameters:
                      density: 0.5
                      weight: 0.5
                  - model: BioMistral/BioMistral-7B
                    parameters:
                      density: 0.5
                      weight: 0.5
                merge_method: ties
                base_model: mistralai/Mistral-7B-v0.1
                parameters:
                  normalize: false
                  int8_mask: true
                dtype: float16
                """, "ex_bio", MISTRAL_7B, DType.F16,
                (n, x, s) -> NaiveMerges.taskArithmetic(x, 2, gtaParams(3, new double[]{0.5, 0.5}, 0.5, 0, 0),
                        NaiveMerges.Thinning.MAGNITUDE, true, false, false, 1, tensorSeed(n), columns(s)));
    }

    /** examples/gradient-slerp.yml: t by filter, a gradient over the 40 layers, 0.5 for the rest. */
    @Test
    void exampleGradientSlerp() throws IOException {
        exampleModels();
        check("""
                slices:
                  - sources:
                      - model: psmathur/orca_mini_v3_13b
                        layer_range: [0, 40]
                      - model: garage-bAInd/Platypus2-13B
                        layer_range: [0, 40]
                # or, the equivalent models: syntax:
                # models:
                #   - model: psmathur/orca_mini_v3_13b
                #   - model: garage-bAInd/Platypus2-13B
                merge_method: slerp
                base_model: psmathur/orca_mini_v3_13b
                parameters:
                  t:
                    - filter: self_attn
                      value: [0, 0.5, 0.3, 0.7, 1]
                    - filter: mlp
                      value: [1, 0.5, 0.7, 0.3, 0]
                    - value: 0.5 # fallback for rest of tensors
                dtype: float16
                """, "ex_slerp", List.of(LLAMA_13B.get(0), LLAMA_13B.get(2)), DType.F16, (n, x, s) -> {
                    double lt = layerT(n, 40);
                    double t = n.contains("self_attn") ? gradient(new double[]{0, 0.5, 0.3, 0.7, 1}, lt)
                            : n.contains("mlp") ? gradient(new double[]{1, 0.5, 0.7, 0.3, 0}, lt) : 0.5;
                    return slerp(t, x[0], x[1]);
                });
    }

    /** examples/orcamini-platy-44layer.yml: layers 0-23 of one model, then 20-39 of the other, renumbered. */
    @Test
    void exampleOrcaminiPlaty44Layer() throws IOException {
        exampleModels();
        MergeResult r = run("""
                slices:
                  - sources:
                    - model: psmathur/orca_mini_v3_13b
                      layer_range: [0, 24]
                  - sources:
                    - model: garage-bAInd/Platypus2-13B
                      layer_range: [20, 40]
                merge_method: passthrough
                dtype: float16
                """, "ex_44");
        assertThat(JSON.readTree(r.outDir().resolve("config.json").toFile()).get("num_hidden_layers").intValue())
                .isEqualTo(44);
        Map<String, float[]> got = tensors(r.outDir());
        Map<String, float[]> orca = tensors(dir.resolve(LLAMA_13B.get(0)));
        Map<String, float[]> platy = tensors(dir.resolve(LLAMA_13B.get(2)));
        assertThat(got).hasSize(2 + 44 * 9 + 1);
        for (Map.Entry<String, float[]> e : got.entrySet()) {
            String name = e.getKey();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("layers\\.(\\d+)\\.").matcher(name);
            float[] expected;
            if (m.find()) {
                int layer = Integer.parseInt(m.group(1));
                expected = layer < 24 ? orca.get(name)
                        : platy.get(name.replace("layers." + layer + ".", "layers." + (layer - 24 + 20) + "."));
            } else {
                // embeddings from the first slice, the final norm and the head from the last
                expected = name.contains("embed_tokens") ? orca.get(name) : platy.get(name);
            }
            assertClose(e.getValue(), expected, DType.F16, name);
        }
    }

    /** examples/arcee_fusion.yml (model_a and model_b are the picollama models above). */
    @Test
    void exampleArceeFusion() {
        check("""
                models:
                  - model: model_a
                  - model: model_b
                merge_method: arcee_fusion
                base_model: model_a
                dtype: bfloat16
                """, "ex_arcee", List.of("model_a", "model_b"), DType.BF16, (n, x, s) -> arceeFusion(x[0], x[1], s));
    }

    // ---------------------------------------------------------------- plain references (mergekit's formulas)

    /** mergekit's slerp: normalised copies for the angle, lerp when |dot| > 0.9995, applied to the originals. */
    static float[] slerp(double t, float[] v0, float[] v1) {
        double n0 = 0;
        double n1 = 0;
        double dot = 0;
        for (int i = 0; i < v0.length; i++) {
            n0 += (double) v0[i] * v0[i];
            n1 += (double) v1[i] * v1[i];
        }
        n0 = Math.sqrt(n0);
        n1 = Math.sqrt(n1);
        for (int i = 0; i < v0.length; i++) {
            dot += (n0 > 1e-8 ? v0[i] / n0 : v0[i]) * (n1 > 1e-8 ? v1[i] / n1 : v1[i]);
        }
        float[] out = new float[v0.length];
        if (Math.abs(dot) > 0.9995) {
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) ((1 - t) * v0[i] + t * v1[i]);
            }
            return out;
        }
        double theta = Math.acos(dot);
        double s0 = Math.sin(theta - theta * t) / Math.sin(theta);
        double s1 = Math.sin(theta * t) / Math.sin(theta);
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (s0 * v0[i] + s1 * v1[i]);
        }
        return out;
    }

    /**
     * NuSlerpTask: t = w_2 / (w_1 + w_2) (given here); with a base, base + nuslerp of the task vectors; the
     * vectors are the whole tensor (flatten), its rows (dim -1) or its columns (row_wise, dim 0).
     */
    static float[] nuslerpTensor(double t, float[][] x, boolean withBase, boolean rowWise, boolean flatten,
                                 long[] shape) {
        int n = x[0].length;
        float[] a = x[0].clone();
        float[] b = x[1].clone();
        if (withBase) {
            for (int i = 0; i < n; i++) {
                a[i] = x[0][i] - x[2][i];
                b[i] = x[1][i] - x[2][i];
            }
        }
        // mergekit's nuslerp: vectors along the last dimension (dim=-1), or along the first (row_wise: transpose(0, -1));
        // a tensor of more than 2 dimensions (the vision tower's conv weight) is then rows x the rest
        int rows = shape.length == 1 ? 1 : rowWise ? (int) shape[0] : n / (int) shape[shape.length - 1];
        int cols = n / rows;
        float[] out = new float[n];
        if (flatten || shape.length == 1) {
            int[] all = java.util.stream.IntStream.range(0, n).toArray();
            nuslerpVector(t, a, b, all, out);
        } else if (!rowWise) {
            for (int r = 0; r < rows; r++) {
                final int rr = r;
                nuslerpVector(t, a, b, java.util.stream.IntStream.range(0, cols).map(c -> rr * cols + c).toArray(), out);
            }
        } else {
            for (int c = 0; c < cols; c++) {
                final int cc = c;
                nuslerpVector(t, a, b, java.util.stream.IntStream.range(0, rows).map(r -> r * cols + cc).toArray(), out);
            }
        }
        if (withBase) {
            for (int i = 0; i < n; i++) {
                out[i] = x[2][i] + out[i];
            }
        }
        return out;
    }

    /** mergekit's nuslerp over the elements {@code idx}: unit vectors with norms clamped at 1e-7, lerp when sin < 1e-8. */
    private static void nuslerpVector(double t, float[] v0, float[] v1, int[] idx, float[] out) {
        double n0 = 0;
        double n1 = 0;
        for (int i : idx) {
            n0 += (double) v0[i] * v0[i];
            n1 += (double) v1[i] * v1[i];
        }
        n0 = Math.max(Math.sqrt(n0), 1e-7);
        n1 = Math.max(Math.sqrt(n1), 1e-7);
        double cos = 0;
        for (int i : idx) {
            cos += (v0[i] / n0) * (v1[i] / n1);
        }
        double theta = Math.acos(Math.max(-1, Math.min(1, cos)));
        double sin = Math.sin(theta);
        for (int i : idx) {
            out[i] = (float) (Math.abs(sin) < 1e-8 ? (1 - t) * v0[i] + t * v1[i]
                    : (Math.sin((1 - t) * theta) * v0[i] + Math.sin(t * theta) * v1[i]) / sin);
        }
    }

    /** mergekit's multislerp: tangent space at the weighted mean direction, scaled by the weighted mean norm. */
    static float[] multislerp(float[][] x, int baseIndex, double[] weights, boolean normalize, double eps) {
        int n = x[0].length;
        List<double[]> d = new ArrayList<>();
        for (int m = 0; m < x.length; m++) {
            if (m != baseIndex) {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) {
                    v[i] = x[m][i] - (baseIndex >= 0 ? x[baseIndex][i] : 0);
                }
                d.add(v);
            }
        }
        int k = d.size();
        double[] w = weights.clone();
        double ws = 0;
        for (double v : w) {
            ws += v;
        }
        for (int j = 0; j < k && normalize; j++) {
            w[j] /= ws;
        }
        double[] norms = new double[k];
        double[][] u = new double[k][n];
        double[] mean = new double[n];
        for (int j = 0; j < k; j++) {
            norms[j] = Math.sqrt(dot(d.get(j), d.get(j)));
            for (int i = 0; i < n; i++) {
                u[j][i] = d.get(j)[i] / (norms[j] + eps);
                mean[i] += u[j][i] * w[j];
            }
        }
        double meanNorm = Math.sqrt(dot(mean, mean));
        for (int i = 0; i < n; i++) {
            mean[i] /= meanNorm;
        }
        double[] tangent = new double[n];
        for (int j = 0; j < k; j++) {
            double dots = dot(u[j], mean);
            for (int i = 0; i < n; i++) {
                tangent[i] += (u[j][i] - dots * mean[i]) * w[j];
            }
        }
        double tn = Math.sqrt(dot(tangent, tangent)) + eps;
        double avgNorm = 0;
        for (int j = 0; j < k; j++) {
            avgNorm += norms[j] * w[j];
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double r = (mean[i] * Math.cos(tn) + tangent[i] * (Math.sin(tn) / tn)) * avgNorm;
            out[i] = (float) (r + (baseIndex >= 0 ? x[baseIndex][i] : 0));
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** mergekit's karcher_merge_tensors with equal weights. */
    static float[] karcher(float[][] x, int maxIter, double tol) {
        int k = x.length;
        int n = x[0].length;
        double[] norms = new double[k];
        double[][] units = new double[k][n];
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (float v : x[j]) {
                s += (double) v * v;
            }
            norms[j] = Math.sqrt(s);
            for (int i = 0; i < n && norms[j] > 0; i++) {
                units[j][i] = x[j][i] / norms[j];
            }
        }
        List<Integer> valid = new ArrayList<>();
        for (int j = 0; j < k; j++) {
            if (norms[j] > tol) {
                valid.add(j);
            }
        }
        double a = 1.0 / valid.size(); // equal alphas 1/k normalised over the valid ones
        double[] u = new double[n];
        for (int j : valid) {
            for (int i = 0; i < n; i++) {
                u[i] += a * units[j][i];
            }
        }
        double nu = Math.sqrt(dot(u, u));
        if (nu < tol) {
            u = units[valid.get(0)].clone();
        } else {
            for (int i = 0; i < n; i++) {
                u[i] /= nu;
            }
        }
        for (int it = 0; it < maxIter; it++) {
            double[] tv = new double[n];
            for (int j : valid) {
                double dd = Math.max(-1, Math.min(1, dot(u, units[j])));
                double theta = Math.acos(dd);
                if (theta < tol) {
                    continue;
                }
                for (int i = 0; i < n; i++) {
                    tv[i] += a * (theta / Math.sin(theta)) * (units[j][i] - dd * u[i]);
                }
            }
            double nt = Math.sqrt(dot(tv, tv));
            if (nt < tol) {
                break;
            }
            for (int i = 0; i < n; i++) {
                u[i] = Math.cos(nt) * u[i] + Math.sin(nt) * (tv[i] / nt);
            }
            double un = Math.sqrt(dot(u, u));
            if (un > tol) {
                for (int i = 0; i < n; i++) {
                    u[i] /= un;
                }
            }
        }
        double s = 0;
        for (int j = 0; j < k; j++) {
            s += norms[j] / k;
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (s * u[i]);
        }
        return out;
    }

    /** mergekit's ModelStockMergeTask: t = N cos / (1 + (N - 1) cos), whole tensor or per row (filter_wise). */
    static float[] modelStock(float[][] x, int baseIndex, boolean filterWise, long[] shape) {
        int n = x[0].length;
        // mergekit's filter_wise: one t per vector along the last dimension (dim=-1); a 1-D tensor is one vector
        int cols = filterWise && shape.length >= 2 ? (int) shape[shape.length - 1] : n;
        List<float[]> ws = new ArrayList<>();
        for (int m = 0; m < x.length; m++) {
            if (m != baseIndex) {
                ws.add(x[m]);
            }
        }
        float[] w0 = x[baseIndex];
        int big = ws.size();
        float[] out = new float[n];
        for (int off = 0; off < n; off += cols) {
            double cosSum = 0;
            int pairs = 0;
            for (int i = 0; i < big; i++) {
                for (int j = i + 1; j < big; j++) {
                    double dotp = 0;
                    double ni = 0;
                    double nj = 0;
                    for (int c = off; c < off + cols; c++) {
                        double di = ws.get(i)[c] - w0[c];
                        double dj = ws.get(j)[c] - w0[c];
                        dotp += di * dj;
                        ni += di * di;
                        nj += dj * dj;
                    }
                    cosSum += Math.max(-1, Math.min(1, dotp / Math.max(Math.sqrt(ni) * Math.sqrt(nj), 1e-6)));
                    pairs++;
                }
            }
            double cos = cosSum / pairs;
            double t = big * cos / (1 + (big - 1) * cos);
            for (int c = off; c < off + cols; c++) {
                double avg = 0;
                for (float[] w : ws) {
                    avg += w[c];
                }
                avg /= big;
                out[c] = (float) (t * avg + (1 - t) * w0[c]);
            }
        }
        return out;
    }

    /**
     * mergekit's arcee_fusion: importance |x - b| * KL(softmax x + eps || softmax b + eps) per row; x where the
     * importance is at least median + 1.5 IQR (quantile index floor(q (n - 1)) of the sorted values; all values,
     * tensors here are below mergekit's 1e6 sampling bound), else b.
     */
    static float[] arceeFusion(float[] b, float[] x, long[] shape) {
        int n = b.length;
        int cols = shape.length == 2 ? (int) shape[1] : n;
        float[] imp = new float[n];
        for (int off = 0; off < n; off += cols) {
            double zx = 0;
            double zb = 0;
            double mx = Double.NEGATIVE_INFINITY;
            double mb = Double.NEGATIVE_INFINITY;
            for (int c = off; c < off + cols; c++) {
                mx = Math.max(mx, x[c]);
                mb = Math.max(mb, b[c]);
            }
            for (int c = off; c < off + cols; c++) {
                zx += Math.exp(x[c] - mx);
                zb += Math.exp(b[c] - mb);
            }
            double kl = 0;
            for (int c = off; c < off + cols; c++) {
                double p = Math.exp(x[c] - mx) / zx + 1e-8;
                double q = Math.exp(b[c] - mb) / zb + 1e-8;
                kl += p * Math.log(p / q);
            }
            for (int c = off; c < off + cols; c++) {
                imp[c] = (float) (Math.abs(x[c] - b[c]) * kl);
            }
        }
        float[] sorted = imp.clone();
        java.util.Arrays.sort(sorted);
        int last = n - 1;
        float threshold = sorted[(int) (0.5 * last)] + 1.5f * (sorted[(int) (0.75 * last)] - sorted[(int) (0.25 * last)]);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = imp[i] >= threshold ? x[i] : b[i];
        }
        return out;
    }

    /** mergekit's nearswap: weight clamp(t / max(|b - x|, 1e-6), 0, 1), out = w x + (1 - w) b. */
    static float[] nearswap(double t, float[] b, float[] x) {
        float[] out = new float[b.length];
        for (int i = 0; i < out.length; i++) {
            double w = Math.max(0, Math.min(1, t / Math.max(Math.abs(b[i] - x[i]), 1e-6)));
            out[i] = (float) (w * x[i] + (1 - w) * b[i]);
        }
        return out;
    }

    /**
     * mergekit's ram.py, every step materialised: task vectors, the |d| > epsilon mask, per-element contributor
     * counts, the unique and overlap masks, per-model shared and unique counts, lambda (RAM+), the sum over models.
     */
    static float[] ram(float[][] x, int baseIndex, boolean plus, double r, double alpha, double epsilon) {
        float[] base = x[baseIndex];
        int n = base.length;
        List<float[]> tv = new ArrayList<>();
        for (int m = 0; m < x.length; m++) {
            if (m != baseIndex) {
                float[] d = new float[n];
                for (int i = 0; i < n; i++) {
                    d[i] = x[m][i] - base[i];
                }
                tv.add(d);
            }
        }
        int k = tv.size();
        float eps = (float) epsilon;
        boolean[][] nonzero = new boolean[k][n];
        int[] contrib = new int[n];
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < n; i++) {
                nonzero[j][i] = Math.abs(tv.get(j)[i]) > eps;
                contrib[i] += nonzero[j][i] ? 1 : 0;
            }
        }
        float[] lambda = new float[k];
        for (int j = 0; j < k; j++) {
            long shared = 0;
            long unique = 0;
            for (int i = 0; i < n; i++) {
                shared += nonzero[j][i] && contrib[i] > 1 ? 1 : 0;
                unique += nonzero[j][i] && contrib[i] == 1 ? 1 : 0;
            }
            float rho = shared / Math.max((float) unique, eps);
            lambda[j] = plus ? 1f + (float) r * Math.min(Math.max(rho, 0f), (float) alpha) : 1f;
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float sum = 0f;
            for (int j = 0; j < k; j++) {
                float z = nonzero[j][i] ? tv.get(j)[i] : 0f;
                float uniquePart = contrib[i] == 1 ? z * lambda[j] : 0f;
                float overlapPart = contrib[i] > 1 ? z / Math.max(contrib[i], 1) : 0f;
                sum += uniquePart + overlapPart;
            }
            out[i] = base[i] + sum;
        }
        return out;
    }

    /** numpy's interp over evenly spaced points in [0, 1], as mergekit evaluates a gradient. */
    static double gradient(double[] points, double t) {
        if (points.length == 1) {
            return points[0];
        }
        double pos = t * (points.length - 1);
        int lo = Math.min((int) Math.floor(pos), points.length - 2);
        double frac = pos - lo;
        return points[lo] + (points[lo + 1] - points[lo]) * frac;
    }
}
