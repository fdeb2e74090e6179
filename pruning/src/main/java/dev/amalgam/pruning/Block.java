package dev.amalgam.pruning;

import dev.amalgam.modelengine.BlockMask;
import java.util.Collection;
import java.util.Comparator;

/**
 * One residual block: BlockPruner's unit of removal. The forward pass runs blocks in {@link #position()} order
 * (attention 0, MLP 0, attention 1, ...).
 *
 * @param layer decoder layer index (0-based, in the original model)
 * @param type attention or MLP
 */
public record Block(int layer, BlockType type) implements Comparable<Block> {

    /** Layer order, attention before MLP within a layer (the reference sorts its output by layer). */
    public static final Comparator<Block> FORWARD_ORDER = Comparator.comparingInt(Block::position);

    public Block {
        if (layer < 0) {
            throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        }
        if (type == null) {
            throw new IllegalArgumentException("block type is required");
        }
    }

    public static Block attention(int layer) {
        return new Block(layer, BlockType.ATTENTION);
    }

    public static Block mlp(int layer) {
        return new Block(layer, BlockType.MLP);
    }

    /** Index in the forward order: 2 * layer for attention, 2 * layer + 1 for the MLP. */
    public int position() {
        return 2 * layer + (type == BlockType.MLP ? 1 : 0);
    }

    /** The block at forward position {@code position}. */
    public static Block atPosition(int position) {
        return new Block(position / 2, position % 2 == 0 ? BlockType.ATTENTION : BlockType.MLP);
    }

    /** The engine's mask skipping {@code blocks}. */
    public static BlockMask mask(Collection<Block> blocks) {
        BlockMask mask = BlockMask.none();
        for (Block b : blocks) {
            mask = b.type() == BlockType.ATTENTION ? mask.skipAttention(b.layer()) : mask.skipMlp(b.layer());
        }
        return mask;
    }

    @Override
    public int compareTo(Block other) {
        return FORWARD_ORDER.compare(this, other);
    }

    /** {@code mha.3} / {@code mlp.3}. */
    @Override
    public String toString() {
        return type.referenceName() + "." + layer;
    }
}
