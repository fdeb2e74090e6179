package dev.amalgam.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.job.Progress;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Behaviours checked against mergekit's planner, tokenizer and embedding code, on tiny Llama checkpoints. */
class MergekitParityTest {

    private static final int H = 16;

    @TempDir
    Path tmp;

    private final TinyLlama tiny = TinyLlama.small().withDtype(DType.F32);

    private MergeResult merge(String yaml, String out) {
        return new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(tmp), tmp.resolve(out),
                MergeOptions.defaults().withThreads(2), Progress.NONE);
    }

    private static float[] read(Path dir, String tensor) {
        try (HfModelDir m = HfModelDir.open(dir)) {
            return m.tensor(tensor).toFloatArray();
        }
    }

    @Test
    void perModelParameterFiltersMatchTheInputTensorNameInAFrankenmerge() {
        tiny.writeVariant(tmp.resolve("a"), 1, 1, 0.02f);
        // output layer 0 is input layer 1: mergekit evaluates the source's parameters for the input weight's name
        merge("""
                merge_method: passthrough
                slices:
                  - sources:
                      - model: a
                        layer_range: [1, 2]
                        parameters:
                          scale: [{filter: "layers.1.", value: 2.0}, {value: 0.5}]
                """, "out");
        float[] in = read(tmp.resolve("a"), "model.layers.1.mlp.up_proj.weight");
        float[] out = read(tmp.resolve("out"), "model.layers.0.mlp.up_proj.weight");
        for (int i = 0; i < out.length; i++) {
            assertThat(out[i]).isEqualTo(2.0f * in[i]);
        }
        float[] embedIn = read(tmp.resolve("a"), "model.embed_tokens.weight");
        float[] embedOut = read(tmp.resolve("out"), "model.embed_tokens.weight");
        assertThat(embedOut[3]).isEqualTo(0.5f * embedIn[3]);
    }

    @Test
    void tokenizerSourceTrimsPaddedEmbeddingRowsToTheTokenizerLength() {
        String[] tokens = tiny.defaultTokens(); // 32 tokens
        TinyLlama padded = tiny.withVocab(40); // 40 embedding rows, 8 of them padding
        padded.writeVariant(tmp.resolve("a"), 1, 1, 0.02f, tokens, Long.MAX_VALUE);
        padded.writeVariant(tmp.resolve("b"), 1, 2, 0.02f, tokens, Long.MAX_VALUE);
        MergeResult r = merge("""
                merge_method: linear
                base_model: a
                models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 1}}]
                tokenizer_source: base
                """, "out");
        assertThat(r.vocabSize()).isEqualTo(32);
        float[] a = read(tmp.resolve("a"), "lm_head.weight");
        float[] b = read(tmp.resolve("b"), "lm_head.weight");
        float[] o = read(tmp.resolve("out"), "lm_head.weight");
        assertThat(o).hasSize(32 * H);
        for (int i = 0; i < o.length; i++) {
            assertThat(o[i]).isCloseTo((a[i] + b[i]) / 2, within(1e-6f));
        }
        try (HfModelDir out = HfModelDir.open(tmp.resolve("out"))) {
            assertThat(out.config().get("vocab_size").intValue()).isEqualTo(32);
            assertThat(out.info("model.embed_tokens.weight").shape()).containsExactly(32, H);
        }
    }

    @Test
    void padToMultipleOfFillsThePaddingRowsWithEachModelsMeanRow() {
        String[] tokens = tiny.defaultTokens(); // 32 tokens, padded to 36 rows with a multiple of 12
        tiny.writeVariant(tmp.resolve("a"), 1, 1, 0.02f, tokens, Long.MAX_VALUE);
        tiny.writeVariant(tmp.resolve("b"), 2, 2, 0.02f, tokens, Long.MAX_VALUE);
        MergeResult r = merge("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 3}}]
                tokenizer: {source: base, pad_to_multiple_of: 12}
                """, "out");
        assertThat(r.vocabSize()).isEqualTo(36);
        for (String tensor : new String[]{"model.embed_tokens.weight", "lm_head.weight"}) {
            float[] a = read(tmp.resolve("a"), tensor);
            float[] b = read(tmp.resolve("b"), tensor);
            float[] o = read(tmp.resolve("out"), tensor);
            assertThat(o).hasSize(36 * H);
            for (int c = 0; c < H; c++) {
                double meanA = 0;
                double meanB = 0;
                for (int row = 0; row < 32; row++) {
                    meanA += a[row * H + c] / 32.0;
                    meanB += b[row * H + c] / 32.0;
                }
                assertThat(o[5 * H + c]).isCloseTo((a[5 * H + c] + 3 * b[5 * H + c]) / 4, within(1e-6f));
                for (int row = 32; row < 36; row++) {
                    assertThat((double) o[row * H + c]).isCloseTo((meanA + 3 * meanB) / 4, within(1e-5));
                }
            }
        }
        try (HfModelDir out = HfModelDir.open(tmp.resolve("out"))) {
            assertThat(out.config().get("vocab_size").intValue()).isEqualTo(36);
        }
    }

    @Test
    void padToMultipleOfMustBeAPositiveInteger() {
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> MergeConfig.parseYaml("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}]
                tokenizer: {source: base, pad_to_multiple_of: 0, tokens: {x: {source: b}}}
                """));
        assertThat(e.problems()).anyMatch(p -> p.contains("tokenizer.pad_to_multiple_of must be an integer"))
                .anyMatch(p -> p.contains("tokenizer.tokens[x].source: model 'b' is not one of the merged models"));
        assertThat(MergeConfig.parseYaml("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}]
                tokenizer: {pad_to_multiple_of: 64}
                """).tokenizerSource()).isEqualTo("union");
        assertThat(Arrays.asList(MergeConfig.parseYaml("""
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}]
                tokenizer: {source: base, pad_to_multiple_of: 64}
                """).padToMultipleOf())).containsExactly(64);
    }
}
