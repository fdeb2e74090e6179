package dev.amalgam.modelengine.generate;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GeneratorTest {

    @TempDir
    Path dir;

    private LlamaModel tiny(String arch) {
        TinyModels.write(Architecture.fromName(arch), dir, new TinySizes(32, 64, 3, 4, 2, 128, DType.F32), 5);
        return CheckpointLoader.load(dir, EngineOptions.cpu());
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "mistral", "qwen2"})
    void cachedGreedyDecodingEqualsRecomputingTheWholeSequence(String arch) {
        try (LlamaModel model = tiny(arch)) {
            BlockMask skip = BlockMask.none().skipAttention(1).skipMlp(2);
            for (BlockMask mask : List.of(BlockMask.none(), skip)) {
                int[] p1 = {256, 72, 101, 108};
                int[] p2 = {256, 9, 33, 20, 41, 17, 88};
                List<GeneratedSequence> got = new Generator(model, mask)
                        .generate(List.of(p1, p2), new GenerationConfig(12, 0, 1, 0, 0, false), Set.of());
                assertThat(got.get(0).tokens()).containsExactly(recomputeGreedy(model, p1, 12, mask));
                assertThat(got.get(1).tokens()).containsExactly(recomputeGreedy(model, p2, 12, mask));
                assertThat(got.get(0).finishReason()).isEqualTo(FinishReason.LENGTH);
            }
        }
    }

    /** The test's own decoding loop: no cache, no padding, full forward per token, argmax. */
    private static int[] recomputeGreedy(LlamaModel model, int[] prompt, int n, BlockMask mask) {
        List<Integer> seq = new ArrayList<>();
        for (int t : prompt) {
            seq.add(t);
        }
        int[] out = new int[n];
        int vocab = model.config().vocabSize();
        for (int i = 0; i < n; i++) {
            try (NDManager m = model.manager().newSubManager()) {
                long[][] ids = {seq.stream().mapToLong(Integer::longValue).toArray()};
                float[] logits = model.logits(m.create(ids), null, mask).toFloatArray();
                int off = (seq.size() - 1) * vocab;
                int best = 0;
                for (int v = 1; v < vocab; v++) {
                    best = logits[off + v] > logits[off + best] ? v : best;
                }
                out[i] = best;
                seq.add(best);
            }
        }
        return out;
    }

    @Test
    void stopsAtEosAndKeepsIt() {
        try (LlamaModel model = tiny("llama")) {
            int[] prompt = {256, 65, 66};
            Generator g = new Generator(model, BlockMask.none());
            int[] free = g.generate(List.of(prompt), new GenerationConfig(6, 0, 1, 0, 0, false), Set.of()).get(0).tokens();
            int eos = free[2]; // declare the third greedy token an EOS
            GeneratedSequence stopped = g.generate(List.of(prompt), GenerationConfig.greedy(6), Set.of(eos)).get(0);
            int firstEos = 0;
            while (free[firstEos] != eos) {
                firstEos++;
            }
            assertThat(stopped.tokens()).containsExactly(java.util.Arrays.copyOf(free, firstEos + 1));
            assertThat(stopped.finishReason()).isEqualTo(FinishReason.EOS);
        }
    }

    @Test
    void samplingIsReproducibleForASeedAndVariesAcrossSeeds() {
        try (LlamaModel model = tiny("qwen2")) {
            Generator g = new Generator(model, BlockMask.none());
            int[] prompt = {256, 104, 105};
            List<int[]> five = List.of(prompt, prompt, prompt, prompt, prompt);
            GenerationConfig c = new GenerationConfig(10, 1.5, 1.0, 0, 42, false);
            List<GeneratedSequence> a = g.generate(five, c, Set.of());
            List<GeneratedSequence> b = g.generate(five, c, Set.of());
            List<GeneratedSequence> other = g.generate(five, new GenerationConfig(10, 1.5, 1.0, 0, 43, false), Set.of());
            for (int i = 0; i < 5; i++) {
                assertThat(a.get(i).tokens()).containsExactly(b.get(i).tokens());
            }
            // Five samples at a high temperature are not all the same, and another seed changes them.
            assertThat(a.stream().map(s -> java.util.Arrays.toString(s.tokens())).distinct().count()).isGreaterThan(1);
            assertThat(java.util.Arrays.equals(a.get(0).tokens(), other.get(0).tokens())
                    && java.util.Arrays.equals(a.get(1).tokens(), other.get(1).tokens())).isFalse();
            // top-k 1 is greedy whatever the temperature.
            int[] greedy = g.generate(List.of(prompt), new GenerationConfig(10, 0, 1, 0, 0, false), Set.of()).get(0).tokens();
            int[] k1 = g.generate(List.of(prompt), new GenerationConfig(10, 2.0, 1, 1, 7, false), Set.of()).get(0).tokens();
            assertThat(k1).containsExactly(greedy);
        }
    }

    @Test
    void rowSeedsMakeEachSampledRowIndependentOfItsBatch() {
        try (LlamaModel model = tiny("llama")) {
            Generator g = new Generator(model, BlockMask.none());
            List<int[]> prompts = List.of(new int[] {256, 1, 2}, new int[] {256, 9, 8, 7, 6, 5}, new int[] {256, 40});
            long[] seeds = {11, 22, 33};
            GenerationConfig c = new GenerationConfig(8, 1.3, 0.9, 20, 999, false);
            List<int[]> steps = new ArrayList<>();
            List<GeneratedSequence> batched = g.generate(prompts, c, Set.of(), seeds, () -> steps.add(null));
            assertThat(steps).hasSize(8); // told after every step
            for (int i = 0; i < 3; i++) {
                GeneratedSequence alone = g.generate(List.of(prompts.get(i)), c, Set.of(), new long[] {seeds[i]},
                        () -> { }).get(0);
                assertThat(batched.get(i).tokens()).containsExactly(alone.tokens());
            }
            // a row's stream is its own seed's: another seed for row 0 changes row 0 only
            List<GeneratedSequence> other = g.generate(prompts, c, Set.of(), new long[] {12, 22, 33}, () -> { });
            assertThat(other.get(1).tokens()).containsExactly(batched.get(1).tokens());
            assertThat(other.get(2).tokens()).containsExactly(batched.get(2).tokens());
            assertThat(java.util.Arrays.equals(other.get(0).tokens(), batched.get(0).tokens())).isFalse();
        }
    }

    @Test
    void chatGenerationRendersTheTemplateAndDecodesText() {
        try (LlamaModel model = tiny("mistral"); TextTokenizer tok = TextTokenizer.load(dir)) {
            Generation g = Generator.generateChat(model, tok, List.of(ChatMessage.user("Hello")),
                    GenerationConfig.sampling(8, 0.8, 0.95, 1));
            assertThat(g.tokens()).isNotEmpty().hasSizeLessThanOrEqualTo(8);
            int[] nonSpecial = java.util.Arrays.stream(g.tokens()).filter(t -> t < 256).toArray();
            assertThat(g.text()).isEqualTo(tok.decode(nonSpecial, true));
            assertThat(Generator.generateChat(model, tok, List.of(ChatMessage.user("Hello")),
                    GenerationConfig.sampling(8, 0.8, 0.95, 1)).tokens()).containsExactly(g.tokens());
        }
    }

    @Test
    void plainPromptFromADirectoryIsDeterministicWhenGreedy() {
        TinyModels.write(Architecture.LLAMA, dir, TinySizes.defaults(), 8);
        Generation a = Generator.generate(dir, "Once upon", GenerationConfig.greedy(5), EngineOptions.cpu());
        Generation b = Generator.generate(dir, "Once upon", GenerationConfig.greedy(5), EngineOptions.cpu());
        assertThat(a.tokens()).containsExactly(b.tokens());
        assertThat(a.tokens().length).isBetween(1, 5);
        assertThat(a.finishReason()).isEqualTo(a.tokens().length == 5 && a.tokens()[4] != 257
                ? FinishReason.LENGTH : FinishReason.EOS);
    }
}
