package dev.amalgam.merge.method;

/**
 * Counts of the high bits of magnitude keys ({@link TopK#highBucket}), the first step of the radix select. Each
 * bucket has four counters side by side, one per lane (element index mod 4): the task vectors of BF16 models take
 * few distinct values, so neighbouring elements often fall into one bucket, and with a single counter each
 * increment would wait for the previous one. Side by side, the lanes of a bucket share a cache line.
 */
final class HighHistogram {

    private final int[] counts = new int[4 * TopK.HIGH_BUCKETS]; // a part has fewer than 2^31 elements

    /** Counts the magnitude key of {@code value}, the element at {@code index}. */
    void add(int index, float value) {
        counts[(TopK.highBucket(value) << 2) | (index & 3)]++;
    }

    /** Adds the counts per bucket to {@code totals} (HIGH_BUCKETS of them). */
    void addTo(long[] totals) {
        for (int b = 0; b < totals.length; b++) {
            int i = b << 2;
            totals[b] += (long) counts[i] + counts[i + 1] + counts[i + 2] + counts[i + 3];
        }
    }
}
