package dev.amalgam.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Whole merges where mergekit's behaviour decides: base_model as an input of linear, karcher and passthrough
 * (mergekit's normalize_config adds it to the models), warnings for what is ignored, and {@code int64} output.
 */
class MergekitParityRunTest {

    private static final String Q = "model.layers.0.self_attn.q_proj.weight";

    @TempDir
    Path tmp;

    private final TinyLlama tiny = TinyLlama.small().withDtype(DType.F32);

    private MergeResult merge(String yaml, String out) {
        return new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(tmp), tmp.resolve(out),
                MergeOptions.defaults().withThreads(2), dev.amalgam.job.Progress.NONE);
    }

    private static float[] read(Path dir, String tensor) {
        try (HfModelDir m = HfModelDir.open(dir)) {
            return m.tensor(tensor).toFloatArray();
        }
    }

    @Test
    void linearMergesTheBaseModelAsOneMoreInputWithTheTopLevelWeight() {
        tiny.write(tmp.resolve("base"), 1);
        tiny.writeVariant(tmp.resolve("a"), 1, 2, 0.05f);
        MergeResult r = merge("""
                merge_method: linear
                base_model: base
                parameters: {weight: 1.0}
                models:
                  - model: a
                    parameters: {weight: 3.0}
                """, "out");
        float[] a = read(tmp.resolve("a"), Q);
        float[] base = read(tmp.resolve("base"), Q);
        float[] out = read(r.outDir(), Q);
        for (int i = 0; i < out.length; i++) {
            assertThat(out[i]).isCloseTo((3 * a[i] + base[i]) / 4, within(1e-6f));
        }
        assertThat(r.inputModels()).containsExactly("base", "a");
    }

    @Test
    void linearWithABaseModelThatHasNoWeightIsAClearError() {
        tiny.write(tmp.resolve("base"), 1);
        tiny.writeVariant(tmp.resolve("a"), 1, 2, 0.05f);
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> merge("""
                merge_method: linear
                base_model: base
                models: [{model: a, parameters: {weight: 1.0}}]
                """, "out"));
        assertThat(e.problems()).anySatisfy(p -> assertThat(p).contains("missing required parameter 'weight' for"
                + " model 'base'").contains("base_model is merged as one more input, as mergekit does"));
    }

    @Test
    void karcherWithABaseModelMergesItAsIfItWereListedLast() throws IOException {
        tiny.write(tmp.resolve("base"), 1);
        tiny.writeVariant(tmp.resolve("a"), 1, 2, 0.05f);
        tiny.writeVariant(tmp.resolve("b"), 1, 3, 0.05f);
        merge("merge_method: karcher\nbase_model: base\nmodels: [{model: a}, {model: b}]\n", "with-base");
        merge("merge_method: karcher\nmodels: [{model: a}, {model: b}, {model: base}]\n", "listed");
        merge("merge_method: karcher\nmodels: [{model: a}, {model: b}]\n", "without");
        byte[] withBase = Files.readAllBytes(tmp.resolve("with-base/model.safetensors"));
        assertThat(withBase).isEqualTo(Files.readAllBytes(tmp.resolve("listed/model.safetensors")));
        assertThat(withBase).isNotEqualTo(Files.readAllBytes(tmp.resolve("without/model.safetensors")));
    }

    @Test
    void passthroughWithAnotherBaseModelHasTwoInputsAndIsRefusedAsInMergekit() {
        tiny.write(tmp.resolve("base"), 1);
        tiny.writeVariant(tmp.resolve("a"), 1, 2, 0.05f);
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class,
                () -> MergeConfig.parseYaml("merge_method: passthrough\nbase_model: base\nmodels: [{model: a}]\n"));
        assertThat(e.problems()).containsExactly("passthrough takes exactly one model per slice, got 2");
        // the base itself as the one model is fine
        MergeResult r = merge("merge_method: passthrough\nbase_model: a\nmodels: [{model: a}]\n", "same");
        assertThat(read(r.outDir(), Q)).containsExactly(read(tmp.resolve("a"), Q));
    }

    @Test
    void ignoredKeysAndParametersAreWarningsOfTheValidationAndTheResult() {
        tiny.write(tmp.resolve("base"), 1);
        tiny.writeVariant(tmp.resolve("a"), 1, 2, 0.05f);
        String yaml = """
                merge_method: slerp
                base_model: base
                author: me
                parameters: {t: 0.5}
                models:
                  - model: base
                  - model: a
                    parameters: {weight: 0.5}
                """;
        List<String> expected = List.of(
                "unknown key 'author' is ignored (as mergekit does); known: base_model, chat_template, dtype,"
                        + " merge_method, models, modules, out_dtype, parameters, slices, tokenizer, tokenizer_source",
                "models[1] (a).parameters: parameter 'weight' is not used by slerp here and is ignored; used here: none");
        assertThat(new MergeRunner().validate(MergeConfig.parseYaml(yaml), ModelResolver.paths(tmp)))
                .containsAll(expected);
        assertThat(merge(yaml, "out").warnings()).containsAll(expected);
    }

    @Test
    void int64OutputTruncatesTheMergedValuesTowardZero() throws IOException {
        tiny.write(tmp.resolve("a"), 1);
        MergeResult r = merge("""
                merge_method: passthrough
                models: [{model: a, parameters: {scale: 100}}]
                out_dtype: torch.int64
                """, "out");
        float[] a = read(tmp.resolve("a"), Q);
        try (HfModelDir m = HfModelDir.open(r.outDir())) {
            assertThat(m.info(Q).dtype()).isEqualTo(DType.I64);
            float[] out = m.tensor(Q).toFloatArray();
            long nonZero = 0;
            for (int i = 0; i < out.length; i++) {
                assertThat(out[i]).isEqualTo((float) (long) (a[i] * 100f));
                nonZero += out[i] != 0 ? 1 : 0;
            }
            assertThat(nonZero).isPositive();
        }
        JsonNode config = JsonMapper.builder().build().readTree(Files.readString(r.outDir().resolve("config.json")));
        assertThat(config.get("torch_dtype").stringValue()).isEqualTo("int64");
        assertThat(r.dtype()).isEqualTo("int64");
    }

    private static void setTemplate(Path model, String template) throws IOException {
        Path tc = model.resolve("tokenizer_config.json");
        tools.jackson.databind.node.ObjectNode node = (tools.jackson.databind.node.ObjectNode)
                JsonMapper.builder().build().readTree(Files.readString(tc));
        node.put("chat_template", template);
        Files.writeString(tc, node.toString());
    }

    @Test
    void chatTemplateAutoReadsChatTemplateJinjaBesideTheTokenizerConfig() throws IOException {
        String a = "{% for m in messages %}A{{ m['content'] }}{% endfor %}";
        String b = "{% for m in messages %}B{{ m['content'] }}{% endfor %}";
        Path base = tiny.write(tmp.resolve("base"), 1);
        Path x = tiny.writeVariant(tmp.resolve("x"), 1, 2, 0.05f);
        Path y = tiny.writeVariant(tmp.resolve("y"), 1, 3, 0.05f);
        setTemplate(base, a);
        Files.writeString(base.resolve("chat_template.jinja"), b + "\n"); // wins over the field, as in transformers
        setTemplate(x, "  " + b + "  ");
        setTemplate(y, a);
        // base and x use b (stripped), y uses a: b is the most common
        MergeResult r = merge("""
                merge_method: task_arithmetic
                base_model: base
                chat_template: auto
                models:
                  - model: x
                    parameters: {weight: 0.5}
                  - model: y
                    parameters: {weight: 0.5}
                """, "out");
        JsonNode tc = JsonMapper.builder().build().readTree(Files.readString(r.outDir().resolve("tokenizer_config.json")));
        assertThat(tc.get("chat_template").stringValue()).isEqualTo(b);
        assertThat(r.outDir().resolve("chat_template.jinja")).doesNotExist();
    }

    @Test
    void aTokenizerDonorNeedNotBeMergedNorShareTheArchitecture() throws IOException {
        Path a = tiny.write(tmp.resolve("a"), 1);
        String[] own = tiny.defaultTokens();
        String[] reversed = own.clone();
        for (int i = 2; i < own.length; i++) {
            reversed[i] = own[own.length + 1 - i]; // ids 2..31 hold tok31..tok2
        }
        // the donor is a model of another shape (hidden size 8): only its tokenizer is used
        TinyLlama other = new TinyLlama(tiny.vocab(), 8, 12, 1, 2, 1, false, DType.F32);
        other.writeVariant(tmp.resolve("donor"), 5, 0, 0f, reversed, Long.MAX_VALUE);
        MergeResult r = merge("""
                merge_method: linear
                tokenizer_source: donor
                models: [{model: a, parameters: {weight: 1.0}}]
                """, "out");
        float[] in = read(a, "model.embed_tokens.weight");
        float[] out = read(r.outDir(), "model.embed_tokens.weight");
        int h = tiny.hidden();
        for (int row = 0; row < tiny.vocab(); row++) {
            int source = row < 2 ? row : own.length + 1 - row; // the row of the donor's token in a
            for (int c = 0; c < h; c++) {
                assertThat(out[row * h + c]).as("row %d", row).isEqualTo(in[source * h + c]);
            }
        }
        assertThat(Files.readString(r.outDir().resolve("tokenizer.json")))
                .isEqualTo(Files.readString(tmp.resolve("donor/tokenizer.json")));
    }
}
