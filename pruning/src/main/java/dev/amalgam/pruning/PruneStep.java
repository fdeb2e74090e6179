package dev.amalgam.pruning;

import java.util.List;

/**
 * One step of a search: what it removed and the model it left.
 *
 * @param step 1-based step number
 * @param blocks blocks removed at this step (one block, or a layer's two blocks for layer-level methods)
 * @param perplexity calibration perplexity of the model with every block of steps 1..step removed
 * @param parameterRatio pruning ratio after this step, {@code 1 - params(pruned) / params(dense)}
 */
public record PruneStep(int step, List<Block> blocks, double perplexity, double parameterRatio) {

    public PruneStep {
        blocks = List.copyOf(blocks);
    }
}
