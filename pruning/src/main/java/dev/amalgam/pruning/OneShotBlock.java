package dev.amalgam.pruning;

import java.util.List;

/**
 * One-shot block removal: BlockPruner's perplexity importance without its iterative search. Every block is scored
 * once, by the calibration perplexity of the dense model without it (the greedy search's first round), and the
 * lowest are removed, all at once ({@link OrderedRemoval}).
 */
final class OneShotBlock extends PruneMethod {

    static final String NAME = "oneshot_block";

    private static final List<PruneParameter> PARAMETERS = PruneParameter.of(PruneParameter.BLOCKS,
            PruneParameter.BLOCK_CANDIDATES,
            "memory for the cached hidden states behind the scores and each step's perplexity; 0: each from the "
                    + "embeddings");

    @Override
    public String specName() {
        return NAME;
    }

    /** BlockPruner's paper, whose perplexity importance this applies in one shot. */
    @Override
    public Paper paper() {
        return BlockPruner.PAPER;
    }

    @Override
    public List<PruneParameter> parameters() {
        return PARAMETERS;
    }

    @Override
    public boolean layerLevel() {
        return false;
    }

    @Override
    void prune(PruneSearch search) {
        OrderedRemoval.prune(search,
                s -> OrderedRemoval.firstRoundPerplexities(s.run(), s.scorer(), s.candidates()));
    }
}
