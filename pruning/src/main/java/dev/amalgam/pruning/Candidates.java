package dev.amalgam.pruning;

/** Which blocks a block-level method may remove (the reference's {@code --block-type}). */
public enum Candidates {
    /** Attention and MLP blocks (the reference's {@code mix}). */
    MIX("mix"),
    /** Attention blocks only ({@code mha}). */
    ATTENTION("attention"),
    /** MLP blocks only. */
    MLP("mlp");

    private final String specName;

    Candidates(String specName) {
        this.specName = specName;
    }

    public String specName() {
        return specName;
    }

    /** Parses {@code mix}, {@code attention} (or the reference's {@code mha}), {@code mlp}; null if unknown. */
    public static Candidates fromSpecName(String name) {
        return switch (name) {
            case "mix" -> MIX;
            case "attention", "mha" -> ATTENTION;
            case "mlp" -> MLP;
            default -> null;
        };
    }

    public boolean allows(BlockType type) {
        return this == MIX || (this == ATTENTION) == (type == BlockType.ATTENTION);
    }
}
