package dev.amalgam.pruning;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The pruning methods of a {@link PruneSpec}: BlockPruner and the baselines of its paper. */
public enum PruneMethod {
    /** BlockPruner: greedy perplexity search over single attention/MLP blocks (Zhong et al., 2024). */
    BLOCKPRUNER("blockpruner", false),
    /** The same greedy search with whole layers as candidates (SLEB-like baseline). */
    LAYER_GREEDY("layer_greedy", true),
    /** ShortGPT Block Influence: drop the layers with the lowest 1 - cos(input, output) (Men et al., 2024). */
    SHORTGPT("shortgpt", true),
    /** Relative Magnitude ||f(x)|| / ||x + f(x)|| per layer, one shot (Samragh et al., 2023). */
    RELATIVE_MAGNITUDE("relative_magnitude", true),
    /** One-shot block removal: the K blocks with the lowest perplexity in the first search round. */
    ONESHOT_BLOCK("oneshot_block", false);

    private final String specName;
    private final boolean layerLevel;

    PruneMethod(String specName, boolean layerLevel) {
        this.specName = specName;
        this.layerLevel = layerLevel;
    }

    /** The name used in job specs and the CLI. */
    public String specName() {
        return specName;
    }

    /** Whether the method removes whole layers (both blocks at once). */
    public boolean layerLevel() {
        return layerLevel;
    }

    /** Whether the method scores candidates by calibration perplexity (and uses the activation cache). */
    public boolean perplexityBased() {
        return this == BLOCKPRUNER || this == LAYER_GREEDY || this == ONESHOT_BLOCK;
    }

    /** The method called {@code name}, or null. */
    public static PruneMethod fromSpecName(String name) {
        for (PruneMethod m : values()) {
            if (m.specName.equals(name)) {
                return m;
            }
        }
        return null;
    }

    /** Every spec name, for error messages. */
    public static String known() {
        return Arrays.stream(values()).map(PruneMethod::specName).collect(Collectors.joining(", "));
    }
}
