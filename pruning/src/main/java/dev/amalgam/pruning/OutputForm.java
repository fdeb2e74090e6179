package dev.amalgam.pruning;

/** How the pruned checkpoint is written. */
public enum OutputForm {
    /**
     * Plain Hugging Face layout: layers with both blocks removed are dropped and the rest renumbered; a lone
     * removed block keeps its weights with its output projection (o_proj / down_proj, and bias) zeroed, which makes
     * it the exact identity. Loads in stock transformers.
     */
    MASKED("masked"),
    /**
     * Removed weights dropped: dropped layers renumbered as above, and lone removed blocks listed in config.json
     * under {@code drop_attn_list} / {@code drop_mlp_list} (LLM-Drop's convention) with their tensors absent. Needs
     * {@link CompactCheckpointLoader} (or LLM-Drop's modelling code).
     */
    COMPACT("compact");

    private final String specName;

    OutputForm(String specName) {
        this.specName = specName;
    }

    public String specName() {
        return specName;
    }

    /** The form called {@code name}, or null. */
    public static OutputForm fromSpecName(String name) {
        for (OutputForm f : values()) {
            if (f.specName.equals(name)) {
                return f;
            }
        }
        return null;
    }
}
