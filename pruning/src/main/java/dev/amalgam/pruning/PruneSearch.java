package dev.amalgam.pruning;

import java.util.BitSet;
import java.util.List;

/**
 * What a method's search works on, built once per run by {@link PruningRunner}.
 *
 * @param run the stop rule, the steps so far (resumed ones included), the listener
 * @param runner the block-at-a-time forward over the calibration batches
 * @param scorer calibration perplexity of the current model minus a candidate
 * @param candidates the units the method may remove, in the reference order (single blocks, or layers)
 */
record PruneSearch(SearchRun run, BlockRunner runner, BlockScorer scorer, List<List<Block>> candidates) {

    /** Makes the blocks of the resumed steps part of the scorer's current model. */
    void removeResumedBlocks() {
        BitSet done = new BitSet();
        run.removed().forEach(b -> done.set(b.position()));
        scorer.removeAll(done);
    }
}
