package dev.amalgam.pruning;

/** The two residual blocks of a decoder layer, named as in BlockPruner's reference code ({@code mha}, {@code mlp}). */
public enum BlockType {
    /** {@code h = h + Attn(InputNorm(h))} */
    ATTENTION("mha"),
    /** {@code h = h + MLP(PostAttnNorm(h))} */
    MLP("mlp");

    private final String referenceName;

    BlockType(String referenceName) {
        this.referenceName = referenceName;
    }

    /** {@code mha} or {@code mlp}, the names of the reference's removal-order JSON. */
    public String referenceName() {
        return referenceName;
    }

    /** Parses {@code mha}/{@code attention} or {@code mlp}. */
    public static BlockType fromName(String name) {
        return switch (name) {
            case "mha", "attention", "attn" -> ATTENTION;
            case "mlp" -> MLP;
            default -> throw new IllegalArgumentException("unknown block type '" + name + "' (mha, mlp)");
        };
    }
}
