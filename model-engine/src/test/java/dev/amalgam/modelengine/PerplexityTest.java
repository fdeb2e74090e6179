package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.modelengine.eval.Perplexity;
import dev.amalgam.modelengine.eval.PerplexityResult;
import dev.amalgam.modelengine.eval.TokenChunks;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerplexityTest {

    @TempDir
    Path dir;

    @Test
    void perplexityIsExpOfMeanNllOverChunksAsInTheReference() {
        TinyFixture f = TinyFixture.mistral();
        int[] stream = LlamaModelReferenceTest.randomIds(f.config.vocabSize(), 1, 23, 8)[0];
        TokenChunks chunks = TokenChunks.of(stream, 7); // 3 chunks of 7, 2 tokens dropped
        assertThat(chunks.chunks()).hasSize(3);
        assertThat(chunks.predictedTokens()).isEqualTo(18);
        BlockMask mask = BlockMask.none().skipAttention(0);
        try (LlamaModel model = f.engine()) {
            PerplexityResult one = Perplexity.evaluate(model, chunks, mask, 1);
            PerplexityResult two = Perplexity.evaluate(model, chunks, mask, 2);
            double nll = 0;
            NaiveLlama ref = f.reference();
            for (int[] c : chunks.chunks()) {
                double[][] logits = ref.logits(new int[][] {c}, null, Set.of(0), Set.of())[0];
                for (int t = 0; t < c.length - 1; t++) {
                    nll -= logSoftmax(logits[t], c[t + 1]);
                }
            }
            assertThat(one.tokens()).isEqualTo(18);
            assertThat(one.totalNll()).isCloseTo(nll, within(1e-3));
            assertThat(one.perplexity()).isCloseTo(Math.exp(nll / 18), within(1e-4 * Math.exp(nll / 18)));
            assertThat(two.perplexity()).isCloseTo(one.perplexity(), within(1e-4 * one.perplexity()));
            assertThat(Perplexity.evaluate(model, chunks, BlockMask.none(), 3).perplexity())
                    .isNotCloseTo(one.perplexity(), within(1e-3));
        }
    }

    @Test
    void datasetsOfTextOrInputIdsBecomeChunks() throws Exception {
        TinyModels.write(Architecture.LLAMA, dir, TinySizes.defaults(), 3);
        Path text = dir.resolve("text.jsonl");
        Files.writeString(text, "{\"text\":\"abc\"}\n\n{\"text\":\"de\"}\n");
        Path ids = dir.resolve("ids.jsonl");
        Files.writeString(ids, "{\"input_ids\":[1,2,3]}\n{\"input_ids\":[4,5,6,7]}\n");
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            // one BOS, then "abc\n\nde" byte by byte, cut into chunks of 4, remainder dropped
            TokenChunks t = Perplexity.loadDataset(text, tok, 4);
            assertThat(t.chunks()).hasSize(2);
            assertThat(t.chunks().get(0)).containsExactly(256, 'a', 'b', 'c');
            assertThat(t.chunks().get(1)).containsExactly('\n', '\n', 'd', 'e');
            TokenChunks i = Perplexity.loadDataset(ids, tok, 3);
            assertThat(i.chunks()).containsExactly(new int[] {1, 2, 3}, new int[] {4, 5, 6});
            TokenChunks shortOne = Perplexity.loadDataset(ids, tok, 100);
            assertThat(shortOne.chunks()).containsExactly(new int[] {1, 2, 3, 4, 5, 6, 7});
            Path mixed = dir.resolve("mixed.jsonl");
            Files.writeString(mixed, "{\"text\":\"a\"}\n{\"input_ids\":[1]}\n");
            assertThatThrownBy(() -> Perplexity.loadDataset(mixed, tok, 4)).hasMessageContaining("mixes");
        }
        PerplexityResult r = Perplexity.evaluate(dir, text, 4, EngineOptions.cpu());
        assertThat(r.tokens()).isEqualTo(6);
        assertThat(r.chunks()).isEqualTo(2);
        assertThat(r.perplexity()).isGreaterThan(1).isFinite();
    }

    @Test
    void aSequenceLongerThanTheModelsContextIsRefused() throws Exception {
        TinyModels.write(Architecture.LLAMA, dir, TinySizes.defaults(), 3);
        Path text = dir.resolve("text.jsonl");
        Files.writeString(text, "{\"text\":\"" + "abc ".repeat(100) + "\"}\n");
        assertThatThrownBy(() -> Perplexity.evaluate(dir, text, 257, EngineOptions.cpu()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("seqLen 257 exceeds the model's max_position_embeddings 256");
        assertThat(Perplexity.evaluate(dir, text, 256, EngineOptions.cpu()).chunks()).isEqualTo(1);
    }

    private static double logSoftmax(double[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) {
            max = Math.max(max, l);
        }
        double z = 0;
        for (double l : logits) {
            z += Math.exp(l - max);
        }
        return logits[target] - max - Math.log(z);
    }
}
