package dev.amalgam.modelengine;

import java.util.BitSet;

/**
 * Which residual blocks of the decoder are skipped (BlockPruner's unit of removal). Layer {@code i} is two
 * blocks: attention ({@code h += Attn(InputNorm(h))}) and MLP ({@code h += MLP(PostAttnNorm(h))}); a skipped
 * block is the identity, its norm included. Immutable.
 *
 * <pre>{@code
 * BlockMask mask = BlockMask.none().skipAttention(3).skipMlp(7);
 * }</pre>
 */
public final class BlockMask {

    private static final BlockMask NONE = new BlockMask(new BitSet(), new BitSet());

    private final BitSet attention;
    private final BitSet mlp;

    private BlockMask(BitSet attention, BitSet mlp) {
        this.attention = attention;
        this.mlp = mlp;
    }

    /** No block skipped: the dense model. */
    public static BlockMask none() {
        return NONE;
    }

    /** This mask with attention block {@code layer} also skipped. */
    public BlockMask skipAttention(int layer) {
        checkLayer(layer);
        BitSet a = (BitSet) attention.clone();
        a.set(layer);
        return new BlockMask(a, mlp);
    }

    /** This mask with MLP block {@code layer} also skipped. */
    public BlockMask skipMlp(int layer) {
        checkLayer(layer);
        BitSet m = (BitSet) mlp.clone();
        m.set(layer);
        return new BlockMask(attention, m);
    }

    /** This mask with both blocks of {@code layer} skipped (the whole layer removed). */
    public BlockMask skipLayer(int layer) {
        return skipAttention(layer).skipMlp(layer);
    }

    public boolean skipsAttention(int layer) {
        return attention.get(layer);
    }

    public boolean skipsMlp(int layer) {
        return mlp.get(layer);
    }

    /** Number of skipped blocks. */
    public int skippedCount() {
        return attention.cardinality() + mlp.cardinality();
    }

    /** Fails if the mask names a layer the model does not have. */
    public void validate(int numLayers) {
        int highest = Math.max(attention.length(), mlp.length()) - 1;
        if (highest >= numLayers) {
            throw new IllegalArgumentException("block mask names layer " + highest + " but the model has "
                    + numLayers + " layers");
        }
    }

    private static void checkLayer(int layer) {
        if (layer < 0) {
            throw new IllegalArgumentException("layer index must be >= 0, got " + layer);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlockMask other && attention.equals(other.attention) && mlp.equals(other.mlp);
    }

    @Override
    public int hashCode() {
        return attention.hashCode() * 31 + mlp.hashCode();
    }

    @Override
    public String toString() {
        return "BlockMask[attention=" + attention + ", mlp=" + mlp + "]";
    }
}
