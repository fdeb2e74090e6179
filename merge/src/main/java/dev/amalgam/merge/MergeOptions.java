package dev.amalgam.merge;

/**
 * How a merge runs (not what it computes, except the seed of the random methods).
 *
 * @param threads       worker threads (tensors merged in parallel)
 * @param maxShardBytes maximum bytes per output shard
 * @param seed          seed for dare/della/arcee_fusion sampling; the same seed gives the same output
 * @param memoryBudget  bytes of tensor buffers that may be in flight at once across threads; the largest single
 *                      tensor task always runs even if it alone exceeds the budget
 */
public record MergeOptions(int threads, long maxShardBytes, long seed, long memoryBudget) {

    /** transformers' default shard size ("5GB"). */
    public static final long DEFAULT_SHARD_BYTES = 5L * 1000 * 1000 * 1000;

    public MergeOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (maxShardBytes < 1) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        if (memoryBudget < 1) {
            throw new IllegalArgumentException("memoryBudget must be positive, got " + memoryBudget);
        }
    }

    /** All cores, 5 GB shards, seed 0, half the maximum heap for tensor buffers. */
    public static MergeOptions defaults() {
        return new MergeOptions(Runtime.getRuntime().availableProcessors(), DEFAULT_SHARD_BYTES, 0,
                Runtime.getRuntime().maxMemory() / 2);
    }

    /** A copy with another thread count. */
    public MergeOptions withThreads(int n) {
        return new MergeOptions(n, maxShardBytes, seed, memoryBudget);
    }

    /** A copy with another shard size. */
    public MergeOptions withMaxShardBytes(long bytes) {
        return new MergeOptions(threads, bytes, seed, memoryBudget);
    }

    /** A copy with another seed (the service's seed override). */
    public MergeOptions withSeed(long s) {
        return new MergeOptions(threads, maxShardBytes, s, memoryBudget);
    }

    /** A copy with another memory budget. */
    public MergeOptions withMemoryBudget(long bytes) {
        return new MergeOptions(threads, maxShardBytes, seed, bytes);
    }
}
