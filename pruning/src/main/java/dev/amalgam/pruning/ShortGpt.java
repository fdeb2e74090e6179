package dev.amalgam.pruning;

import java.util.List;

/**
 * ShortGPT: the layers with the lowest Block Influence {@code 1 - mean_t cos(x_i, x_i+1)} on the dense model
 * ({@link LayerImportance}) are removed, lowest first, all at once ({@link OrderedRemoval}).
 */
final class ShortGpt extends PruneMethod {

    static final String NAME = "shortgpt";

    private static final Paper PAPER = new Paper(
            "ShortGPT: Layers in Large Language Models are More Redundant Than You Expect",
            "Xin Men, Mingyu Xu, Qingyu Zhang, Bingning Wang, Hongyu Lin, Yaojie Lu, Xianpei Han, Weipeng Chen", 2024,
            "2403.03853");

    private static final List<PruneParameter> PARAMETERS = PruneParameter.of(PruneParameter.LAYER_BLOCKS,
            PruneParameter.LAYER_CANDIDATES,
            "memory for the cached hidden states behind each step's perplexity; 0: each from the embeddings");

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
        OrderedRemoval.prune(search,
                s -> LayerImportance.scores(s.runner(), LayerImportance.Kind.BLOCK_INFLUENCE));
    }
}
