package dev.amalgam.pruning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.eval.Perplexity;
import dev.amalgam.modelengine.eval.TokenChunks;
import dev.amalgam.modelio.DType;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The block-at-a-time forward agrees with the engine's masked forward, for every architecture switch. */
class BlockRunnerTest {

    @TempDir
    Path tmp;

    /** Scoring frees every temporary; the cache holds one array per distinct stored state, and nothing else. */
    @org.junit.jupiter.api.Test
    void searchLeavesNoArraysBehind() {
        Path dir = Tiny.model(Architecture.LLAMA, tmp.resolve("m"), 3, DType.F32, 5);
        TokenChunks data = CalibrationData.load(Tiny.idsJsonl(tmp.resolve("d.jsonl"), 6, 40, 1), () -> null, 100, 24,
                0);
        try (LlamaModel model = CheckpointLoader.load(dir, EngineOptions.cpu())) {
            int modelArrays = live(model.manager());
            try (BlockRunner runner = new BlockRunner(model, data, 4)) { // 10 chunks: batches of 4, 4, 2
                int runnerArrays = live(runner.scopeParent());
                for (int stride : new int[] {0, 1, 2}) {
                    try (BlockScorer scorer = new BlockScorer(runner, stride)) {
                        int batches = runner.batchCount();
                        assertThat(scorer.cachedArrays()).isEqualTo(stride == 1 ? batches * 7 : stride == 2 ? batches * 4 : 0);
                        scorer.score(new int[] {2});
                        scorer.remove(new int[] {2});
                        scorer.score(new int[] {0, 1});
                        scorer.remove(new int[] {4});
                        scorer.score(new int[0]);
                        // stride 1: embeddings + one state per kept block (6 - 2); stride 2: positions 0, 2, 4, 6
                        assertThat(scorer.cachedArrays()).isEqualTo(stride == 1 ? batches * 5 : stride == 2 ? batches * 4 : 0);
                        assertThat(live(runner.scopeParent()) - scorer.cachedArrays()).isEqualTo(runnerArrays);
                    }
                    assertThat(live(runner.scopeParent())).isEqualTo(runnerArrays);
                }
            }
            assertThat(live(model.manager())).isEqualTo(modelArrays);
        }
    }

    // Arrays owned by the manager and, recursively, by its child managers.
    private static int live(ai.djl.ndarray.NDManager m) {
        return ((ai.djl.ndarray.BaseNDManager) m).getManagedArrays().size();
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void perplexityEqualsEngineMaskedForward(Architecture arch) {
        Path dir = Tiny.model(arch, tmp.resolve("m"), 3, DType.BF16, 5);
        TokenChunks data = CalibrationData.load(Tiny.idsJsonl(tmp.resolve("d.jsonl"), 6, 40, 1), () -> null, 100, 24,
                0);
        List<Block> removed = List.of(Block.attention(1), Block.mlp(1), Block.mlp(2));
        try (LlamaModel model = CheckpointLoader.load(dir, EngineOptions.cpu());
                BlockRunner runner = new BlockRunner(model, data, 3);
                BlockScorer plain = new BlockScorer(runner, 0)) {
            double engineDense = Perplexity.evaluate(model, data, BlockMask.none(), 2).perplexity();
            double engineMasked = Perplexity.evaluate(model, data, Block.mask(removed), 2).perplexity();
            assertThat(plain.score(new int[0])).isCloseTo(engineDense, within(engineDense * 1e-5));
            int[] positions = removed.stream().mapToInt(Block::position).toArray();
            assertThat(plain.score(positions)).isCloseTo(engineMasked, within(engineMasked * 1e-5));
            assertThat(engineMasked).isNotCloseTo(engineDense, within(engineDense * 1e-3)); // the mask matters
            // Cached scorers (every position, every third) give bit-identical perplexities to the plain one.
            int[] first = {Block.attention(1).position()};
            int[] second = {Block.mlp(2).position()};
            for (int stride : new int[] {1, 3}) {
                try (BlockScorer cached = new BlockScorer(runner, stride);
                        BlockScorer fresh = new BlockScorer(runner, 0)) {
                    BitSet set = new BitSet();
                    set.set(first[0]);
                    cached.removeAll(set);
                    fresh.removeAll(set);
                    assertThat(cached.score(second)).isEqualTo(fresh.score(second));
                    cached.remove(second);
                    fresh.remove(second);
                    assertThat(cached.score(new int[0])).isEqualTo(fresh.score(new int[0]));
                    assertThat(cached.score(new int[] {0})).isEqualTo(fresh.score(new int[] {0}));
                }
            }
        }
    }
}
