package dev.amalgam.pruning;

import java.util.List;

/**
 * Relative Magnitude: the layers with the lowest {@code mean_t ||f(x)|| / ||x + f(x)||} on the dense model
 * ({@link LayerImportance}) are removed, lowest first, all at once ({@link OrderedRemoval}).
 */
final class RelativeMagnitude extends PruneMethod {

    static final String NAME = "relative_magnitude";

    private static final Paper PAPER = new Paper(
            "Weight subcloning: direct initialization of transformers using larger pretrained ones",
            "Mohammad Samragh, Mehrdad Farajtabar, Sachin Mehta, Raviteja Vemulapalli, Fartash Faghri, Devang Naik, "
                    + "Oncel Tuzel, Mohammad Rastegari",
            2023, "2312.09299");

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
                s -> LayerImportance.scores(s.runner(), LayerImportance.Kind.RELATIVE_MAGNITUDE));
    }
}
