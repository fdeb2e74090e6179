package dev.amalgam.fusion.fusechat.align;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * How often each (pivot token id, source token id) pair was aligned over a corpus: the sparse "token alignment
 * matrix" FuseChat-2.0 counts before it builds the {@link VocabMapping#mostSimilar MS} vocabulary mapping.
 *
 * <p>For each pivot position i of a sample and each distinct source token id among the source positions
 * aligned to i, the count of (pivot id at i, that source id) rises by one. A source id aligned to i twice
 * counts once, as the authors' numpy {@code matrix[row, ids] += 1} does with repeated indices.
 */
public final class CoOccurrenceCounts {

    /** source id -> (pivot id -> count), pivot ids kept in ascending order. */
    private final Map<Integer, TreeMap<Integer, Long>> bySource = new HashMap<>();

    /** Adds one aligned sample: the two id sequences and their {@link DtwAlignment}. */
    public void add(int[] pivotIds, int[] sourceIds, DtwAlignment alignment) {
        if (alignment.pivotToSource().size() != pivotIds.length || alignment.sourceToPivot().size() != sourceIds.length) {
            throw new IllegalArgumentException("alignment covers " + alignment.pivotToSource().size() + " pivot and "
                    + alignment.sourceToPivot().size() + " source positions, but the ids have " + pivotIds.length
                    + " and " + sourceIds.length);
        }
        for (int i = 0; i < pivotIds.length; i++) {
            int[] aligned = alignment.pivotToSource().get(i);
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            for (int position : aligned) {
                int sourceId = sourceIds[position];
                if (seen.add(sourceId)) {
                    increment(pivotIds[i], sourceId, 1);
                }
            }
        }
    }

    /** Adds {@code count} to one pair directly (to load saved counts, or in tests). */
    public void increment(int pivotId, int sourceId, long count) {
        if (pivotId < 0 || sourceId < 0 || count < 0) {
            throw new IllegalArgumentException("pivot id " + pivotId + ", source id " + sourceId + " and count " + count
                    + " must be >= 0");
        }
        bySource.computeIfAbsent(sourceId, k -> new TreeMap<>()).merge(pivotId, count, Long::sum);
    }

    public long count(int pivotId, int sourceId) {
        TreeMap<Integer, Long> row = bySource.get(sourceId);
        return row == null ? 0 : row.getOrDefault(pivotId, 0L);
    }

    /** The pivot ids co-aligned with a source id and their counts, ascending by pivot id (empty if none). */
    public Map<Integer, Long> pivotCounts(int sourceId) {
        TreeMap<Integer, Long> row = bySource.get(sourceId);
        return row == null ? Collections.emptyMap() : Collections.unmodifiableMap(row);
    }
}
