package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

/**
 * Run-time state of incremental decoding: per layer the rotated keys and the values of every position seen so
 * far, plus the attention mask of those positions. Owns its arrays; close it when the sequence is done.
 * A cache is bound to one batch size and one {@link BlockMask} (a skipped attention block stores nothing).
 */
public final class KvCache implements AutoCloseable {

    private final NDManager manager;
    private final BlockMask blocks;
    private final long batchSize;
    private final NDArray[] keys; // per layer [batch, kvHeads, length, headDim]
    private final NDArray[] values; // per layer [batch, kvHeads, length, headDim]
    private NDArray mask; // [batch, length] float32, 1 = real token
    private int length;

    KvCache(NDManager parent, int numLayers, long batchSize, BlockMask blocks) {
        this.manager = parent.newSubManager();
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

    /** Appends new keys/values of {@code layer} and returns the full ones (owned by the cache). */
    NDArray[] append(int layer, NDArray k, NDArray v) {
        keys[layer] = concat(keys[layer], k);
        values[layer] = concat(values[layer], v);
        return new NDArray[] {keys[layer], values[layer]};
    }

    /** Records the mask of the step's new positions, after every layer has appended. */
    void advance(NDArray stepMask, int steps) {
        mask = concat1(mask, stepMask);
        length += steps;
    }

    private NDArray concat(NDArray old, NDArray fresh) {
        if (old == null) {
            fresh.attach(manager); // the first step's keys become the cache, no copy
            return fresh;
        }
        NDArray joined = NDArrays.concat(new NDList(old, fresh), 2);
        joined.attach(manager);
        old.close();
        return joined;
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
