package dev.amalgam.pruning;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * The one-shot baselines: score every candidate once on the dense model, then remove them lowest score first,
 * all at once. Steps are still recorded one candidate at a time (with the perplexity of each nested set), so every
 * method reports the same shape and any k can be applied later.
 */
final class OrderedRemoval {

    private OrderedRemoval() {
    }

    /**
     * The search of a one-shot method: its scores on the dense model (unless the resumed state holds them, as a
     * resumed job keeps its first scores), then {@link #run} from the resumed steps' removed set on.
     */
    static void prune(PruneSearch search, Function<PruneSearch, List<Double>> scoring) {
        SearchRun run = search.run();
        if (run.scores() == null) {
            run.scores(scoring.apply(search)); // before the resumed blocks are removed: scores are of the dense model
        }
        search.removeResumedBlocks();
        run(run, search.scorer(), search.candidates(), run.scores());
    }

    /**
     * One-shot block removal's scores: the first round of the greedy search, i.e. the calibration perplexity of the
     * dense model without each candidate.
     */
    static List<Double> firstRoundPerplexities(SearchRun run, Scorer scorer, List<List<Block>> candidates) {
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            out.add(scorer.score(SearchRun.positions(candidates.get(i))));
            run.listener().onCandidate(1, i + 1, candidates.size());
            run.checkCancelled();
        }
        return out;
    }

    /** Candidate indices by ascending score; ties keep candidate order; NaN last. */
    static List<Integer> order(List<Double> scores) {
        return IntStream.range(0, scores.size()).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> Double.isNaN(scores.get(i)) ? Double.POSITIVE_INFINITY
                        : scores.get(i)).thenComparingInt(i -> i))
                .toList();
    }

    /** Removes candidates in score order until the stop rule holds, measuring each nested set's perplexity. */
    static void run(SearchRun run, Scorer scorer, List<List<Block>> candidates, List<Double> scores) {
        List<List<Block>> ordered = order(scores).stream().map(candidates::get).toList();
        run.totalSteps(plannedSteps(run, ordered));
        for (List<Block> unit : ordered) {
            if (run.done()) {
                return;
            }
            if (!run.allowed(unit)) {
                continue; // removed by an earlier (resumed) step
            }
            scorer.remove(SearchRun.positions(unit));
            run.record(unit, scorer.score(new int[0]));
        }
    }

    private static int plannedSteps(SearchRun run, List<List<Block>> ordered) {
        int already = run.nextStep() - 1;
        int n = 0;
        List<Block> removed = new ArrayList<>(run.removed());
        for (List<Block> unit : ordered) {
            if (removed.containsAll(unit)) {
                continue;
            }
            if (run.doneWith(removed) || removed.size() + unit.size() >= run.totalBlocks()) {
                break;
            }
            removed.addAll(unit);
            n++;
        }
        return already + n;
    }
}
