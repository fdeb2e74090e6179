package dev.amalgam.pruning;

import java.util.List;

/**
 * A {@link PruneSpec} field a pruning method reads, and what it means for that method.
 *
 * @param name the field's name in the JSON spec (one of {@link PruneSpec#FIELDS})
 * @param meaning what the field decides for the method
 */
public record PruneParameter(String name, String meaning) {

    static final PruneParameter BLOCKS = new PruneParameter("blocks", "attention and MLP blocks to remove");
    static final PruneParameter LAYER_BLOCKS = new PruneParameter("blocks",
            "blocks to remove, even: blocks / 2 whole layers");
    static final PruneParameter TARGET_RATIO = new PruneParameter("targetRatio",
            "instead of blocks: stop at the first step whose parameter ratio reaches it");
    static final PruneParameter BLOCK_CANDIDATES = new PruneParameter("candidates",
            "block types that may be removed: mix, attention (mha) or mlp");
    static final PruneParameter LAYER_CANDIDATES = new PruneParameter("candidates",
            "only mix: a layer is its attention block and its MLP block");

    /**
     * A method's parameters: its stop rule ({@code blocks}, {@code targetRatio}) and {@code candidates}, the
     * calibration set every score and perplexity is measured on, and what the activation cache is used for.
     */
    static List<PruneParameter> of(PruneParameter blocks, PruneParameter candidates, String cacheUse) {
        return List.of(blocks, TARGET_RATIO, candidates,
                new PruneParameter("samples", "calibration rows drawn from the dataset"),
                new PruneParameter("seqLen", "calibration chunk length in tokens"),
                new PruneParameter("seed", "seed of the calibration row draw"),
                new PruneParameter("batchSize", "calibration chunks per forward"),
                new PruneParameter("cacheBudgetMb", cacheUse));
    }
}
