package dev.amalgam.pruning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.eval.Perplexity;
import dev.amalgam.modelengine.eval.TokenChunks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The greedy search against a naive brute-force loop written here on the engine's own perplexity. */
class GreedySearchTest {

    @TempDir
    static Path tmp;
    static Path model;
    static TokenChunks data;

    @BeforeAll
    static void setUp() {
        model = Tiny.llama(tmp.resolve("m"));
        data = CalibrationData.load(Tiny.idsJsonl(tmp.resolve("d.jsonl"), 8, 30, 3), () -> null, 100, 32, 0);
    }

    /** Result of one search. */
    record Search(List<PruneStep> steps, long blockForwards, int evaluations) {
    }

    static Search search(LlamaModel m, PruneSpec spec, int stride) {
        int[] evaluations = {0};
        PruningListener counting = new PruningListener() {
            @Override
            public void onStep(PruningProgress progress) {
            }

            @Override
            public void onCandidate(int step, int done, int total) {
                evaluations[0]++;
            }
        };
        ParameterCounts counts = ParameterCounts.of(m.config());
        SearchRun run = new SearchRun(spec, counts, counting, new PruningState(1, "t", "f", null, List.of()));
        int layers = m.config().numHiddenLayers();
        List<List<Block>> candidates = spec.method().candidates(layers, spec.candidates());
        try (BlockRunner runner = new BlockRunner(m, data, spec.batchSize());
                BlockScorer scorer = new BlockScorer(runner, stride)) {
            GreedySearch.run(run, scorer, candidates);
            return new Search(run.state().steps(), runner.blockForwards(), evaluations[0]);
        }
    }

    /** The loop of docs/algorithms.md, section 2, verbatim, on the engine's masked forward. */
    static List<List<Block>> naive(LlamaModel m, List<List<Block>> candidatesInOrder, int k, List<Double> ppls) {
        List<Block> removed = new ArrayList<>();
        List<List<Block>> order = new ArrayList<>();
        for (int step = 0; step < k; step++) {
            List<Block> best = null;
            double bestPpl = Double.POSITIVE_INFINITY;
            for (List<Block> c : candidatesInOrder) {
                if (removed.containsAll(c)) {
                    continue;
                }
                List<Block> trial = new ArrayList<>(removed);
                trial.addAll(c);
                double ppl = Perplexity.evaluate(m, data, Block.mask(trial), 4).perplexity();
                if (ppl < bestPpl) {
                    best = c;
                    bestPpl = ppl;
                }
            }
            removed.addAll(best);
            order.add(best);
            ppls.add(bestPpl);
        }
        return order;
    }

    @Test
    void blockPrunerMatchesNaiveSearchAndCachedMatchesPlain() {
        try (LlamaModel m = CheckpointLoader.load(model, EngineOptions.cpu())) {
            int k = 5;
            PruneSpec spec = PruneSpec.blockPruner(k).withCalibration(100, 32, 0, 4);
            List<Block> reference = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                reference.add(Block.attention(i));
            }
            for (int i = 0; i < 4; i++) {
                reference.add(Block.mlp(i));
            }
            List<Double> naivePpl = new ArrayList<>();
            List<List<Block>> expected = naive(m, reference.stream().map(List::of).toList(), k, naivePpl);

            Search plain = search(m, spec, 0);
            Search cached = search(m, spec, 1);
            Search strided = search(m, spec, 3);
            assertThat(plain.steps()).extracting(PruneStep::blocks).containsExactlyElementsOf(expected);
            for (int i = 0; i < k; i++) {
                assertThat(plain.steps().get(i).perplexity()).isCloseTo(naivePpl.get(i), within(naivePpl.get(i) * 1e-5));
            }
            // The cache changes where forwards start, never the numbers: identical steps, identical perplexities.
            assertThat(cached.steps()).isEqualTo(plain.steps());
            assertThat(strided.steps()).isEqualTo(plain.steps());
            // K * (4L - K + 1) / 2 perplexity evaluations (docs/algorithms.md, section 2), L = 4.
            assertThat(plain.evaluations()).isEqualTo(k * (4 * 4 - k + 1) / 2);
            // Plain: step s scores 2L - s + 1 candidates, each running 2L - s blocks, on 2 batches.
            long plainForwards = 0;
            for (int s = 1; s <= k; s++) {
                plainForwards += (8L - s + 1) * (8 - s) * 2;
            }
            assertThat(plain.blockForwards()).isEqualTo(plainForwards);
            assertThat(cached.blockForwards()).isLessThan(plain.blockForwards() * 3 / 4);
            assertThat(strided.blockForwards()).isBetween(cached.blockForwards(), plain.blockForwards());
        }
    }

    /** Ties keep the first candidate tried, in the reference order (attention blocks by layer, then MLP). */
    @Test
    void tiesKeepTheFirstCandidateInReferenceOrder() {
        ParameterCounts counts = new ParameterCounts(1000, 10, 20, 3);
        List<String> tried = new ArrayList<>();
        Scorer flat = new Scorer() {
            @Override
            public double score(int[] positions) {
                Block b = Block.atPosition(positions[0]);
                tried.add(b.toString());
                // mlp.1 and mha.2 tie for the lowest value; NaN is never chosen.
                return b.equals(Block.mlp(0)) ? Double.NaN : b.equals(Block.mlp(1)) || b.equals(Block.attention(2)) ? 5 : 7;
            }

            @Override
            public void remove(int[] positions) {
            }
        };
        SearchRun run = new SearchRun(PruneSpec.blockPruner(2), counts, PruningListener.NONE,
                new PruningState(1, "t", "f", null, List.of()));
        GreedySearch.run(run, flat, GreedySearch.blockCandidates(3, Candidates.MIX));
        assertThat(tried.subList(0, 6)).containsExactly("mha.0", "mha.1", "mha.2", "mlp.0", "mlp.1", "mlp.2");
        assertThat(run.state().steps()).extracting(PruneStep::blocks)
                .containsExactly(List.of(Block.attention(2)), List.of(Block.mlp(1)));
        assertThat(tried.subList(6, tried.size())).containsExactly("mha.0", "mha.1", "mlp.0", "mlp.1", "mlp.2");
        assertThat(run.state().steps().get(1).parameterRatio()).isCloseTo(0.03, within(1e-12)); // (10 + 20) / 1000
    }

    @Test
    void candidateOptionsRestrictTheSearch() {
        try (LlamaModel m = CheckpointLoader.load(model, EngineOptions.cpu())) {
            PruneSpec spec = PruneSpec.blockPruner(3).withCalibration(100, 32, 0, 4);
            Search attention = search(m, spec.withCandidates(Candidates.ATTENTION), 1);
            Search mlp = search(m, spec.withCandidates(Candidates.MLP), 1);
            assertThat(attention.steps()).flatExtracting(PruneStep::blocks).extracting(Block::type)
                    .containsOnly(BlockType.ATTENTION).hasSize(3);
            assertThat(mlp.steps()).flatExtracting(PruneStep::blocks).extracting(Block::type)
                    .containsOnly(BlockType.MLP).hasSize(3);
            List<Double> naivePpl = new ArrayList<>();
            List<List<Block>> expected = naive(m, List.of(List.of(Block.mlp(0)), List.of(Block.mlp(1)),
                    List.of(Block.mlp(2)), List.of(Block.mlp(3))), 3, naivePpl);
            assertThat(mlp.steps()).extracting(PruneStep::blocks).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void layerGreedyMatchesNaiveSearchOverLayers() {
        try (LlamaModel m = CheckpointLoader.load(model, EngineOptions.cpu())) {
            PruneSpec spec = PruneSpec.blockPruner(4).withMethod(PruneMethods.get("layer_greedy"))
                    .withCalibration(100, 32, 0, 4);
            Search plain = search(m, spec, 0);
            Search cached = search(m, spec, 1);
            List<Double> naivePpl = new ArrayList<>();
            List<List<Block>> expected = naive(m, GreedySearch.layerCandidates(4), 2, naivePpl);
            assertThat(plain.steps()).extracting(PruneStep::blocks).containsExactlyElementsOf(expected);
            assertThat(cached.steps()).isEqualTo(plain.steps());
        }
    }

    @Test
    void targetRatioStopsAtTheFirstStepReachingIt() {
        try (LlamaModel m = CheckpointLoader.load(model, EngineOptions.cpu())) {
            ParameterCounts counts = ParameterCounts.of(m.config());
            double target = 0.2;
            Search s = search(m, PruneSpec.blockPruner(1).withTargetRatio(target).withCalibration(100, 32, 0, 4), 1);
            List<PruneStep> steps = s.steps();
            assertThat(steps.get(steps.size() - 1).parameterRatio()).isGreaterThanOrEqualTo(target);
            assertThat(steps.size() == 1 || steps.get(steps.size() - 2).parameterRatio() < target).isTrue();
            List<Block> removed = new ArrayList<>();
            steps.forEach(st -> removed.addAll(st.blocks()));
            assertThat(steps.get(steps.size() - 1).parameterRatio()).isEqualTo(counts.ratio(removed));
        }
    }
}
