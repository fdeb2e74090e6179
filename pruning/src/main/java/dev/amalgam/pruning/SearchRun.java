package dev.amalgam.pruning;

import java.util.ArrayList;
import java.util.List;

/**
 * Bookkeeping shared by every method: the stop rule, the steps so far, the one-shot scores, the listener,
 * cancellation. {@link PruningRunner} builds one per run.
 */
final class SearchRun {

    private final PruneSpec spec;
    private final ParameterCounts counts;
    private final PruningListener listener;
    private PruningState state;
    private int totalSteps;

    /**
     * @param state the fresh or resumed state; a resumed state is cut to the steps the spec asks for (a job resumed
     *     with a smaller K keeps the nested prefix)
     */
    SearchRun(PruneSpec spec, ParameterCounts counts, PruningListener listener, PruningState state) {
        this.spec = spec;
        this.counts = counts;
        this.listener = listener;
        this.state = truncated(state);
    }

    private PruningState truncated(PruningState resumed) {
        List<PruneStep> kept = new ArrayList<>();
        List<Block> removed = new ArrayList<>();
        for (PruneStep step : resumed.steps()) {
            if (doneWith(removed)) {
                break;
            }
            kept.add(step);
            removed.addAll(step.blocks());
        }
        return new PruningState(resumed.version(), resumed.method(), resumed.fingerprint(), resumed.scores(), kept);
    }

    PruningState state() {
        return state;
    }

    ParameterCounts counts() {
        return counts;
    }

    /** The one-shot scores, per candidate in candidate order; null for a greedy search or before scoring. */
    List<Double> scores() {
        return state.scores();
    }

    /** Sets the one-shot scores; they are part of every later state (a resume reuses them). */
    void scores(List<Double> scores) {
        state = new PruningState(state.version(), state.method(), state.fingerprint(), scores, state.steps());
    }

    PruningListener listener() {
        return listener;
    }

    int totalBlocks() {
        return 2 * counts.numLayers();
    }

    void totalSteps(int n) {
        totalSteps = n;
    }

    /** 1-based number of the next step. */
    int nextStep() {
        return state.steps().size() + 1;
    }

    List<Block> removed() {
        return state.removedBlocks();
    }

    /** Whether the stop rule holds: K blocks removed, or the target ratio reached. */
    boolean done() {
        return doneWith(removed());
    }

    /** The stop rule for a given removed set. */
    boolean doneWith(List<Block> removed) {
        if (spec.blocks() != null) {
            return removed.size() >= spec.blocks();
        }
        return counts.ratio(removed) >= spec.targetRatio();
    }

    /** Whether removing {@code unit} now keeps it disjoint from the removed set and leaves at least one block. */
    boolean allowed(List<Block> unit) {
        List<Block> removed = removed();
        return removed.size() + unit.size() < totalBlocks() && unit.stream().noneMatch(removed::contains);
    }

    /** Records a completed step, tells the listener, and stops if cancelled. */
    void record(List<Block> blocks, double perplexity) {
        List<Block> after = new ArrayList<>(removed());
        after.addAll(blocks);
        PruneStep step = new PruneStep(nextStep(), blocks, perplexity, counts.ratio(after));
        state = state.plus(step);
        listener.onStep(new PruningProgress(step.step(), Math.max(totalSteps, step.step()), blocks, perplexity,
                step.parameterRatio(), state));
        checkCancelled();
    }

    void checkCancelled() {
        if (listener.isCancelled()) {
            throw new dev.amalgam.job.CancelledException();
        }
    }

    /** Steps needed if units were taken smallest first (exact for a block count). */
    int stepsUpperBound(List<List<Block>> units) {
        if (spec.blocks() != null) {
            return spec.blocks() / units.get(0).size();
        }
        List<List<Block>> bySize = new ArrayList<>(units);
        bySize.sort(java.util.Comparator.comparingLong(u -> u.stream().mapToLong(counts::of).sum()));
        List<Block> removed = new ArrayList<>();
        int n = 0;
        for (List<Block> u : bySize) {
            if (counts.ratio(removed) >= spec.targetRatio()) {
                break;
            }
            removed.addAll(u);
            n++;
        }
        return n;
    }

    static int[] positions(List<Block> unit) {
        return unit.stream().mapToInt(Block::position).toArray();
    }
}
