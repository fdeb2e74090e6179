package dev.amalgam.pruning;

import java.util.List;

/**
 * What a {@link PruningListener} hears after each search step.
 *
 * @param step 1-based step just completed
 * @param totalSteps steps of the whole run: exact for a block count and for one-shot methods; for a greedy search
 *     towards a target ratio, an upper bound (the count if the smallest blocks were always chosen)
 * @param removed blocks removed at this step
 * @param perplexity calibration perplexity after this step
 * @param parameterRatio pruning ratio after this step
 * @param state the checkpoint to store; a run resumed from it continues at step + 1
 */
public record PruningProgress(int step, int totalSteps, List<Block> removed, double perplexity, double parameterRatio,
        PruningState state) {

    public PruningProgress {
        removed = List.copyOf(removed);
    }
}
