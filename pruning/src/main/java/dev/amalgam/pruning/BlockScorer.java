package dev.amalgam.pruning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import java.util.BitSet;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Calibration perplexity of "the current model minus a candidate", for the greedy search. The current model is
 * the dense model with the blocks removed so far.
 *
 * <p>With the activation cache on, the hidden state at every {@code stride}-th position of the current model is
 * kept per batch. A candidate whose first block sits at position {@code s} changes nothing before {@code s}, so its
 * forward starts from the cached state at the largest stored position {@code <= s} instead of from the embeddings.
 * The cached states were computed by the very same operations on the same inputs as the plain forward's prefix, so
 * both give bit-identical perplexities (and hence the same choices). After a removal the cache is rebuilt from the
 * first removed position on.
 *
 * <pre>{@code
 * try (BlockScorer scorer = new BlockScorer(runner, 1)) {   // stride 0: plain search
 *     double ppl = scorer.score(new int[] {Block.mlp(3).position()});
 *     scorer.remove(new int[] {Block.mlp(3).position()});
 * }
 * }</pre>
 */
final class BlockScorer implements Scorer, AutoCloseable {

    private final BlockRunner runner;
    private final int stride;
    private final int end;
    private final BitSet removed = new BitSet();
    private final NDManager cacheManager;
    private final NDArray[][] states; // [batch][position], null where not stored; arrays may repeat (removed blocks)

    /**
     * @param stride 0 for the plain search (every candidate from the embeddings); k >= 1 caches every k-th position
     */
    BlockScorer(BlockRunner runner, int stride) {
        this.runner = runner;
        this.stride = stride;
        this.end = runner.positions();
        this.cacheManager = stride > 0 ? runner.scopeParent().newSubManager() : null;
        this.states = stride > 0 ? new NDArray[runner.batchCount()][end + 1] : null;
        if (stride > 0) {
            rebuildFrom(0);
        }
    }

    /** Removes {@code positions} from the current model before any search step (resuming). */
    void removeAll(BitSet positions) {
        if (positions.isEmpty()) {
            return;
        }
        removed.or(positions);
        if (stride > 0) {
            rebuildFrom(positions.nextSetBit(0));
        }
    }

    /** Positions removed so far. */
    BitSet removed() {
        return (BitSet) removed.clone();
    }

    /** Calibration perplexity of the current model without {@code candidate} (empty: the current model). */
    @Override
    public double score(int[] candidate) {
        BitSet skip = (BitSet) removed.clone();
        int first = end;
        for (int p : candidate) {
            skip.set(p);
            first = Math.min(first, p);
        }
        double nll = 0;
        for (int b = 0; b < runner.batchCount(); b++) {
            try (NDManager scope = runner.scopeParent().newSubManager()) {
                int start;
                NDArray x;
                if (stride > 0) {
                    start = (first / stride) * stride;
                    x = states[b][start];
                } else {
                    start = 0;
                    x = runner.embed(b, scope);
                }
                NDArray cached = stride > 0 ? x : null;
                for (int p = start; p < end; p++) {
                    if (!skip.get(p)) {
                        NDArray next = runner.apply(x, p, b, scope);
                        if (x != cached) {
                            x.close(); // keep one hidden state alive, not the whole stack
                        }
                        x = next;
                    }
                }
                nll += runner.nll(x, b);
            }
        }
        return Math.exp(nll / runner.predictedTokens());
    }

    /** Makes {@code candidate} part of the current model's removed set. */
    @Override
    public void remove(int[] candidate) {
        int first = end;
        for (int p : candidate) {
            removed.set(p);
            first = Math.min(first, p);
        }
        if (stride > 0 && candidate.length > 0) {
            rebuildFrom(first);
        }
    }

    /** Recomputes the stored states after {@code from} (states at or before it are unchanged). */
    private void rebuildFrom(int from) {
        int base = (from / stride) * stride;
        for (int b = 0; b < states.length; b++) {
            NDArray[] row = states[b];
            Set<NDArray> old = Collections.newSetFromMap(new IdentityHashMap<>());
            for (int p = base + 1; p <= end; p++) {
                if (row[p] != null) {
                    old.add(row[p]);
                }
                row[p] = null;
            }
            try (NDManager scope = runner.scopeParent().newSubManager()) {
                NDArray x = row[base];
                if (x == null) { // only position 0 on the first build
                    x = runner.embed(b, scope);
                    x.attach(cacheManager);
                    row[base] = x;
                }
                boolean stored = true;
                for (int p = base; p < end; p++) {
                    if (!removed.get(p)) {
                        NDArray next = runner.apply(x, p, b, scope);
                        if (!stored) {
                            x.close();
                        }
                        x = next;
                        stored = false;
                    }
                    if ((p + 1) % stride == 0 || p + 1 == end) {
                        x.attach(cacheManager); // kept beyond the scope
                        row[p + 1] = x;
                        stored = true;
                    }
                }
            }
            Set<NDArray> live = Collections.newSetFromMap(new IdentityHashMap<>());
            for (NDArray a : row) {
                if (a != null) {
                    live.add(a);
                }
            }
            for (NDArray a : old) {
                if (!live.contains(a)) {
                    a.close();
                }
            }
        }
    }

    /** Arrays held by the cache (for leak tests); 0 for the plain search. */
    int cachedArrays() {
        return cacheManager == null ? 0 : ((BaseNDManager) cacheManager).getManagedArrays().size();
    }

    @Override
    public void close() {
        if (cacheManager != null) {
            cacheManager.close();
        }
    }
}
