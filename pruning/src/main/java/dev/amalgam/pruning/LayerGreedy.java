package dev.amalgam.pruning;

import java.util.List;

/**
 * The layer-level baseline: BlockPruner's greedy search ({@link GreedySearch}) with whole layers as candidates,
 * which is SLEB's iterative removal of the layer whose absence hurts the calibration perplexity least.
 */
final class LayerGreedy extends PruneMethod {

    static final String NAME = "layer_greedy";

    private static final Paper PAPER = new Paper(
            "SLEB: Streamlining LLMs through Redundancy Verification and Elimination of Transformer Blocks",
            "Jiwon Song, Kyungseok Oh, Taesu Kim, Hyungjun Kim, Yulhwa Kim, Jae-Joon Kim", 2024, "2402.09025");

    private static final List<PruneParameter> PARAMETERS = PruneParameter.of(PruneParameter.LAYER_BLOCKS,
            PruneParameter.LAYER_CANDIDATES,
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
        return true;
    }

    @Override
    void prune(PruneSearch search) {
        GreedySearch.prune(search);
    }
}
