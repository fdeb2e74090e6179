package dev.amalgam.modelengine;

import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which residual blocks of the decoder are skipped (BlockPruner's unit of removal). Layer {@code i} is two
 * blocks: attention ({@code h += Attn(InputNorm(h))}) and MLP ({@code h += MLP(PostAttnNorm(h))}); a skipped
 * block is the identity, its norm included. Immutable; the sets are sorted copies.
 *
 * <pre>{@code
 * BlockMask mask = BlockMask.none().skipAttention(3).skipMlp(7);
 * BlockMask same = new BlockMask(Set.of(3), Set.of(7));
 * }</pre>
 *
 * @param skippedAttention layers whose attention block is skipped
 * @param skippedMlp layers whose MLP block is skipped
 */
public record BlockMask(Set<Integer> skippedAttention, Set<Integer> skippedMlp) {

    private static final BlockMask NONE = new BlockMask(Set.of(), Set.of());

    public BlockMask {
        skippedAttention = sortedCopy(skippedAttention);
        skippedMlp = sortedCopy(skippedMlp);
    }

    private static Set<Integer> sortedCopy(Set<Integer> layers) {
        TreeSet<Integer> copy = new TreeSet<>();
        for (Integer layer : layers) {
            if (layer == null || layer < 0) {
                throw new IllegalArgumentException("layer index must be >= 0, got " + layer);
            }
            copy.add(layer);
        }
        return Collections.unmodifiableSet(copy);
    }

    /** No block skipped: the dense model. */
    public static BlockMask none() {
        return NONE;
    }

    /** This mask with attention block {@code layer} also skipped. */
    public BlockMask skipAttention(int layer) {
        return new BlockMask(plus(skippedAttention, layer), skippedMlp);
    }

    /** This mask with MLP block {@code layer} also skipped. */
    public BlockMask skipMlp(int layer) {
        return new BlockMask(skippedAttention, plus(skippedMlp, layer));
    }

    /** This mask with both blocks of {@code layer} skipped (the whole layer removed). */
    public BlockMask skipLayer(int layer) {
        return skipAttention(layer).skipMlp(layer);
    }

    public boolean skipsAttention(int layer) {
        return skippedAttention.contains(layer);
    }

    public boolean skipsMlp(int layer) {
        return skippedMlp.contains(layer);
    }

    /** Number of skipped blocks. */
    public int skippedCount() {
        return skippedAttention.size() + skippedMlp.size();
    }

    /** Fails if the mask names a layer the model does not have. */
    public void validate(int numLayers) {
        int highest = -1;
        for (int layer : skippedAttention) {
            highest = Math.max(highest, layer);
        }
        for (int layer : skippedMlp) {
            highest = Math.max(highest, layer);
        }
        if (highest >= numLayers) {
            throw new IllegalArgumentException("block mask names layer " + highest + " but the model has "
                    + numLayers + " layers");
        }
    }

    private static Set<Integer> plus(Set<Integer> set, int layer) {
        TreeSet<Integer> s = new TreeSet<>(set);
        s.add(layer);
        return s;
    }
}
