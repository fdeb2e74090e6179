package dev.amalgam.pruning;

import java.util.List;

/**
 * BlockPruner (docs/algorithms.md, section 2): per step, every remaining attention or MLP block is scored by the
 * calibration perplexity of the model without it and without everything removed so far, and the lowest is removed
 * ({@link GreedySearch}).
 */
final class BlockPruner extends PruneMethod {

    static final String NAME = "blockpruner";

    static final Paper PAPER = new Paper("BlockPruner: Fine-grained Pruning for Large Language Models",
            "Longguang Zhong, Fanqi Wan, Ruijun Chen, Xiaojun Quan, Liangzhi Li", 2024, "2406.10594");

    private static final List<PruneParameter> PARAMETERS = PruneParameter.of(PruneParameter.BLOCKS,
            PruneParameter.BLOCK_CANDIDATES,
            "memory for the search's cached hidden states; 0: every candidate runs from the embeddings");

    @Override
    public String specName() {
        return NAME;
    }

    @Override
    public Paper paper() {
        return PAPER;
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
        GreedySearch.prune(search);
    }
}
