package dev.amalgam.pruning;

import java.util.ArrayList;
import java.util.List;

/**
 * BlockPruner's iterative greedy search (docs/algorithms.md, section 2), and with whole layers as candidates the
 * layer-level baseline. Each step scores every remaining candidate, in the reference order, by the calibration
 * perplexity of the model without it (and without everything removed so far), and removes the strictly lowest;
 * ties keep the first tried. No look-ahead. The nested removal sets are the prefixes of the recorded steps.
 */
final class GreedySearch {

    private GreedySearch() {
    }

    /** Candidates in the reference order: every attention block by layer, then every MLP block by layer. */
    static List<List<Block>> blockCandidates(int layers, Candidates allowed) {
        List<List<Block>> out = new ArrayList<>();
        if (allowed.allows(BlockType.ATTENTION)) {
            for (int i = 0; i < layers; i++) {
                out.add(List.of(Block.attention(i)));
            }
        }
        if (allowed.allows(BlockType.MLP)) {
            for (int i = 0; i < layers; i++) {
                out.add(List.of(Block.mlp(i)));
            }
        }
        return out;
    }

    /** Whole layers by index (attention and MLP together). */
    static List<List<Block>> layerCandidates(int layers) {
        List<List<Block>> out = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            out.add(List.of(Block.attention(i), Block.mlp(i)));
        }
        return out;
    }

    /** The search of {@link BlockPruner} and {@link LayerGreedy}: from the resumed steps' removed set on. */
    static void prune(PruneSearch search) {
        search.removeResumedBlocks();
        run(search.run(), search.scorer(), search.candidates());
    }

    /** Runs steps until the stop rule holds (continuing after the run's completed steps). */
    static void run(SearchRun run, Scorer scorer, List<List<Block>> candidates) {
        run.totalSteps(run.stepsUpperBound(candidates));
        while (!run.done()) {
            List<List<Block>> remaining = candidates.stream().filter(run::allowed).toList();
            if (remaining.isEmpty()) {
                return;
            }
            List<Block> best = null;
            double bestPpl = Double.NaN;
            for (int i = 0; i < remaining.size(); i++) {
                List<Block> c = remaining.get(i);
                double ppl = scorer.score(SearchRun.positions(c));
                if (!Double.isNaN(ppl) && (best == null || ppl < bestPpl)) { // strictly lower: ties keep the first
                    best = c;
                    bestPpl = ppl;
                }
                run.listener().onCandidate(run.nextStep(), i + 1, remaining.size());
                run.checkCancelled();
            }
            if (best == null) {
                throw new IllegalStateException("step " + run.nextStep() + ": every candidate gave a NaN perplexity");
            }
            scorer.remove(SearchRun.positions(best));
            run.record(best, bestPpl);
        }
    }
}
