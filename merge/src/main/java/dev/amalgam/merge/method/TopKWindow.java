package dev.amalgam.merge.method;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The exact top-k cut ({@link TopKCut}) of values that are being written anyway, without a histogram pass or a
 * pass after them. A sample first brackets the k-th largest magnitude key in a window [lo, hi]. While the caller
 * writes the values chunk by chunk, {@link #record} counts the keys above the window and lists the keys inside it;
 * the threshold, the per-chunk counts of keys equal to it and so the cut then follow from those lists alone.
 *
 * <p>The result never depends on the sample: when the k-th key falls outside the window (a rare sample), or the
 * tensor is too small to sample, {@link #cut} returns null and the caller takes the histogram path of
 * {@link TopK}, which gives the same cut.
 */
final class TopKWindow {

    // sampled runs of a few contiguous elements: neighbours within a run may be alike (rows of a weight matrix
    // differ in scale), so the margin below holds even if each run counted as a single draw
    private static final int RUNS = 4096;
    private static final int RUN = 4;
    private static final int SAMPLE = RUNS * RUN;
    private static final int BLOCK = 2048;

    /** Below this size a tensor is not sampled: the histogram path is cheap there. */
    static final int MIN_LENGTH = 16 * SAMPLE;

    /** Fills {@code dst[0, len)} with the magnitude keys (|x| as float bits) of elements [from, from + len). */
    interface SampleKeys {
        void keys(int from, int len, int[] dst);
    }

    private final int lo;
    private final int hi;
    private final long[] above; // per chunk: keys > hi
    private final int[][] lists; // per chunk: the keys in [lo, hi], in index order
    private final int[] sizes;
    private final int capacity; // first list size per chunk: the sample's share in the window, with room

    private TopKWindow(int n, int lo, int hi, double inWindowShare) {
        this.lo = lo;
        this.hi = hi;
        this.capacity = (int) Math.min(Chunks.SIZE, 1.25 * inWindowShare * Chunks.SIZE + BLOCK);
        int chunks = Chunks.count(n);
        this.above = new long[chunks];
        this.lists = new int[chunks][];
        this.sizes = new int[chunks];
    }

    /**
     * A window around the {@code share} quantile from the top (k / n), from a sample of the keys, or null when n
     * is below {@link #MIN_LENGTH} or the share is not strictly between 0 and 1. The margin is 8 standard deviations of the sample rank for independent draws,
     * 4 if every run of the sample were a single draw, so misses are rare and only cost time.
     */
    static TopKWindow bracket(int n, double share, SampleKeys sample) {
        if (n < MIN_LENGTH || !(share > 0 && share < 1)) {
            return null;
        }
        int[] keys = new int[SAMPLE];
        int[] run = new int[RUN];
        SplittableRandom random = new SplittableRandom(n); // any positions do: the result never depends on them
        for (int r = 0; r < RUNS; r++) {
            sample.keys(random.nextInt(n - RUN + 1), RUN, run);
            System.arraycopy(run, 0, keys, r * RUN, RUN);
        }
        Arrays.sort(keys);
        double rank = share * SAMPLE; // from the top
        double margin = 4 * Math.sqrt(RUN) * Math.sqrt(SAMPLE * share * (1 - share)) + 64;
        int hiRank = (int) Math.floor(rank - margin); // ranks from the top, 0 = largest
        int loRank = (int) Math.ceil(rank + margin);
        int hi = hiRank < 0 ? Integer.MAX_VALUE : keys[SAMPLE - 1 - hiRank];
        int lo = loRank >= SAMPLE ? 0 : keys[SAMPLE - 1 - loRank];
        int inWindow = 0;
        for (int key : keys) {
            inWindow += key >= lo && key <= hi ? 1 : 0;
        }
        return new TopKWindow(n, lo, hi, (double) inWindow / SAMPLE);
    }

    /**
     * Records {@code values[off, off + len)}, elements of chunk {@code c}; each chunk's elements in index order,
     * and each chunk from one thread at a time.
     */
    void record(int c, float[] values, int off, int len) {
        int[] list = lists[c];
        int s = sizes[c];
        long a = 0;
        for (int b0 = off; b0 < off + len; b0 += BLOCK) {
            int b1 = Math.min(off + len, b0 + BLOCK);
            if (list == null || list.length < s + (b1 - b0)) { // grown by blocks: the window holds a few percent
                list = list == null ? new int[capacity] : Arrays.copyOf(list, Math.max(s + BLOCK, 2 * s));
            }
            for (int t = b0; t < b1; t++) {
                int key = TopK.key(values[t]);
                int outAbove = hi - key; // negative iff key > hi (no overflow: keys, lo and hi are non-negative)
                a += outAbove >>> 31;
                list[s] = key; // kept only if in the window (branch-free compaction)
                s += 1 ^ (((key - lo) | outAbove) >>> 31);
            }
        }
        lists[c] = list;
        sizes[c] = s;
        above[c] += a;
    }

    /**
     * The exact cut keeping the k largest keys of the recorded values (lowest indices first among equals), or
     * null when the k-th largest key lies outside the window. {@code scan} finds the split in the one chunk where
     * the quota of keys equal to the threshold runs out.
     */
    TopKCut cut(int n, int k, TopK.BoundaryScan scan) {
        long totalAbove = 0;
        long inWindow = 0;
        for (int c = 0; c < sizes.length; c++) {
            totalAbove += above[c];
            inWindow += sizes[c];
        }
        if (totalAbove >= k || totalAbove + inWindow < k) {
            return null;
        }
        // two radix steps over the keys relative to lo, sized by the window's span: at most 4096 high buckets, so
        // the first counts stay in cache (a radix over the whole key range would be 32768 + 65536 counters)
        int span = hi - lo;
        int shift = Math.max(0, 32 - Integer.numberOfLeadingZeros(span) - 12);
        int[] high = new int[(span >>> shift) + 1]; // fewer than 2^31 keys in all
        for (int c = 0; c < lists.length; c++) {
            int[] list = lists[c];
            for (int i = 0; i < sizes[c]; i++) {
                high[(list[i] - lo) >>> shift]++;
            }
        }
        int hb = high.length - 1;
        long acc = totalAbove; // keys above bucket hb
        while (acc + high[hb] < k) {
            acc += high[hb--];
        }
        int[] low = new int[1 << shift];
        for (int c = 0; c < lists.length; c++) {
            int[] list = lists[c];
            for (int i = 0; i < sizes[c]; i++) {
                int rel = list[i] - lo;
                if (rel >>> shift == hb) {
                    low[rel & (low.length - 1)]++;
                }
            }
        }
        int lb = low.length - 1;
        while (acc + low[lb] < k) {
            acc += low[lb--];
        }
        TopK.Threshold t = new TopK.Threshold(lo + ((hb << shift) | lb), k - acc, low[lb]);
        long[] equals = null;
        if (!t.simple()) {
            equals = new long[lists.length];
            for (int c = 0; c < lists.length; c++) {
                int[] list = lists[c];
                long e = 0;
                for (int i = 0; i < sizes[c]; i++) {
                    e += list[i] == t.bits() ? 1 : 0;
                }
                equals[c] = e;
            }
        }
        return TopK.cut(n, t, equals, scan);
    }
}
