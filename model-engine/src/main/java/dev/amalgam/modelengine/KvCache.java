package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Run-time state of incremental decoding: per layer the rotated keys and the values of every position seen so
 * far, plus the attention mask of those positions. Buffers are preallocated (to the capacity hint, else doubling)
 * and written in place, so a step does not copy the cache. Owns its arrays; close it when the sequence is done.
 * A cache is bound to one batch size and one {@link BlockMask} (a skipped attention block stores nothing).
 */
public final class KvCache implements AutoCloseable {

    private final NDManager manager;
    private final BlockMask blocks;
    private final long batchSize;
    private final long capacityHint; // positions to allocate up front (prompt + new tokens), 0 if unknown
    private final NDArray[] keys; // per layer [batch, kvHeads, capacity, headDim]; positions >= length unused
    private final NDArray[] values; // per layer [batch, kvHeads, capacity, headDim]
    private NDArray mask; // [batch, length] float32, 1 = real token
    private int length;

    KvCache(NDManager parent, int numLayers, long batchSize, BlockMask blocks, long capacityHint) {
        this.manager = parent.newSubManager();
        this.capacityHint = capacityHint;
        this.blocks = blocks;
        this.batchSize = batchSize;
        this.keys = new NDArray[numLayers];
        this.values = new NDArray[numLayers];
    }

    /** Positions cached so far. */
    public int length() {
        return length;
    }

    /** The block mask this cache was filled with. */
    public BlockMask blocks() {
        return blocks;
    }

    void checkUsableWith(BlockMask requested, long batch) {
        if (!requested.equals(blocks)) {
            throw new IllegalArgumentException("KV cache was built with " + blocks + ", not " + requested);
        }
        if (batch != batchSize) {
            throw new IllegalArgumentException("KV cache batch size is " + batchSize + ", input has " + batch);
        }
    }

    /** Mask of cached positions, or null when empty. */
    NDArray mask() {
        return mask;
    }

    /**
     * Writes the new keys/values of {@code layer} after the cached positions and returns views of all of them
     * ([batch, kvHeads, length + new, headDim]), owned by {@code viewOwner}.
     */
    NDArray[] append(int layer, NDArray k, NDArray v, NDManager viewOwner) {
        long fresh = k.getShape().get(2);
        long total = length + fresh;
        keys[layer] = ensureCapacity(keys[layer], k, total);
        values[layer] = ensureCapacity(values[layer], v, total);
        NDIndex newPositions = new NDIndex(":, :, {}:{}", length, total);
        keys[layer].set(newPositions, k); // in place: no copy of the earlier positions
        values[layer].set(newPositions, v);
        NDIndex all = new NDIndex(":, :, :{}", total);
        NDArray kView = keys[layer].get(all);
        NDArray vView = values[layer].get(all);
        kView.attach(viewOwner);
        vView.attach(viewOwner);
        return new NDArray[] {kView, vView};
    }

    /** The layer's buffer, grown (to the hint, else doubling) when {@code needed} positions do not fit. */
    private NDArray ensureCapacity(NDArray buffer, NDArray fresh, long needed) {
        long have = buffer == null ? 0 : buffer.getShape().get(2);
        if (have >= needed) {
            return buffer;
        }
        long capacity = Math.max(needed, Math.max(capacityHint, 2 * have));
        Shape s = fresh.getShape();
        NDArray grown = manager.zeros(new Shape(s.get(0), s.get(1), capacity, s.get(3)), fresh.getDataType(),
                fresh.getDevice()); // [batch, kvHeads, capacity, headDim]
        if (buffer != null) {
            try (NDArray cached = buffer.get(new NDIndex(":, :, :{}", length))) {
                grown.set(new NDIndex(":, :, :{}", length), cached);
            }
            buffer.close();
        }
        return grown;
    }

    /** Records the mask of the step's new positions, after every layer has appended. */
    void advance(NDArray stepMask, int steps) {
        mask = concat1(mask, stepMask);
        length += steps;
    }

    private NDArray concat1(NDArray old, NDArray fresh) {
        if (old == null) {
            NDArray copy = fresh.duplicate();
            copy.attach(manager);
            return copy;
        }
        NDArray joined = NDArrays.concat(new NDList(old, fresh), 1);
        joined.attach(manager);
        old.close();
        return joined;
    }

    @Override
    public void close() {
        manager.close();
    }
}
