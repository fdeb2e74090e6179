package dev.amalgam.merge.kernel;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The exact top-k selection by magnitude used by every merge method that trims (TIES, breadcrumbs, SCE): it keeps
 * the k elements with the largest |x|, and among equal magnitudes at the threshold the lowest indices (mergekit
 * leaves that order unspecified). The result is a {@link TopKCut}, which a later loop applies as it computes.
 *
 * <p>How: the magnitude key of a value is |x| as float bits, ordered like |x|. A sample of the values brackets the
 * k-th largest key in a window [lo, hi]; one pass over the values, chunk by chunk, counts the keys above the window
 * and lists the keys inside it; a two-step radix select over those lists gives the threshold and the per-chunk
 * counts of keys equal to it. When the tensor is too small to sample, the window is every key. When the sample
 * missed (the k-th key lies outside the window), a second pass lists every key. The result never depends on the
 * sample, only the time does.
 */
public final class TopK {

    // sampled runs of a few contiguous elements: neighbours within a run may be alike (rows of a weight matrix
    // differ in scale), so the margin below holds even if each run counted as a single draw
    private static final int RUNS = 4096;
    private static final int RUN = 4;
    private static final int SAMPLE = RUNS * RUN;
    private static final int BLOCK = 2048;

    /** Below this size a tensor is not sampled: listing every key is cheap there. */
    public static final int MIN_SAMPLED_LENGTH = 16 * SAMPLE;

    private TopK() {
    }

    /**
     * The values to select from, produced chunk by chunk (computed on demand, such as task vectors x - base).
     * Called concurrently for disjoint ranges.
     */
    @FunctionalInterface
    public interface Values {
        /**
         * Fills {@code dst[j][0, len)} with the values of selection j at elements [from, from + len), for every
         * selection j ({@code dst} has one array per selection); {@code scratch} is a free buffer of at least
         * {@code len} elements.
         */
        void read(int from, int len, float[][] dst, float[] scratch);
    }

    /** The magnitude key of a value: |v| as float bits, ordered like |v| (NaNs above infinity). */
    public static int key(float v) {
        return Float.floatToRawIntBits(v) & 0x7fffffff;
    }

    /** The cut keeping the k largest magnitudes of x: {@link TopKCut#none} for k <= 0, null (keep all) for k >= n. */
    public static TopKCut select(float[] x, int k) {
        return select(x.length, new int[]{k}, (from, len, dst, scratch) -> System.arraycopy(x, from, dst[0], 0, len))[0];
    }

    /**
     * For each selection j of the values, the cut keeping its k[j] largest magnitudes: {@link TopKCut#none} where
     * k[j] <= 0, null (keep all) where k[j] >= n. All selections share each pass over the values.
     */
    public static TopKCut[] select(int n, int[] k, Values values) {
        int m = k.length;
        TopKCut[] cuts = new TopKCut[m];
        Window[] windows = new Window[m];
        for (int j = 0; j < m; j++) {
            if (k[j] <= 0) {
                cuts[j] = TopKCut.none(n);
            } else if (k[j] < n && n < MIN_SAMPLED_LENGTH) {
                windows[j] = Window.everyKey(n);
            }
        }
        bracket(n, k, values, windows);
        record(n, values, windows);
        boolean missed = false;
        for (int j = 0; j < m; j++) {
            if (windows[j] != null) {
                cuts[j] = windows[j].cut(n, k[j], j, m, values);
                missed |= cuts[j] == null;
            }
        }
        if (missed) { // rare: list every key of the selections whose sample missed
            Window[] again = new Window[m];
            for (int j = 0; j < m; j++) {
                again[j] = windows[j] != null && cuts[j] == null ? Window.everyKey(n) : null;
            }
            record(n, values, again);
            for (int j = 0; j < m; j++) {
                if (again[j] != null) {
                    cuts[j] = again[j].cut(n, k[j], j, m, values);
                }
            }
        }
        return cuts;
    }

    /**
     * Sets windows[j] for each selection with 0 < k[j] < n that has none yet: a window around the k / n quantile
     * from the top, from a sample of the keys. The margin is 8 standard deviations of the sample rank for
     * independent draws, 4 if every run of the sample were a single draw, so misses are rare.
     */
    private static void bracket(int n, int[] k, Values values, Window[] windows) {
        int m = k.length;
        boolean any = false;
        for (int j = 0; j < m; j++) {
            any |= k[j] > 0 && k[j] < n && windows[j] == null;
        }
        if (!any) {
            return;
        }
        int[][] keys = new int[m][SAMPLE];
        float[][] run = new float[m][RUN];
        float[] scratch = new float[RUN];
        SplittableRandom random = new SplittableRandom(n); // any positions do: the result never depends on them
        for (int r = 0; r < RUNS; r++) {
            values.read(random.nextInt(n - RUN + 1), RUN, run, scratch);
            for (int j = 0; j < m; j++) {
                for (int t = 0; t < RUN; t++) {
                    keys[j][r * RUN + t] = key(run[j][t]);
                }
            }
        }
        for (int j = 0; j < m; j++) {
            if (k[j] <= 0 || k[j] >= n || windows[j] != null) {
                continue;
            }
            int[] sample = keys[j];
            Arrays.sort(sample);
            double share = (double) k[j] / n;
            double rank = share * SAMPLE; // from the top
            double margin = 4 * Math.sqrt(RUN) * Math.sqrt(SAMPLE * share * (1 - share)) + 64;
            int hiRank = (int) Math.floor(rank - margin); // ranks from the top, 0 = largest
            int loRank = (int) Math.ceil(rank + margin);
            int hi = hiRank < 0 ? Integer.MAX_VALUE : sample[SAMPLE - 1 - hiRank];
            int lo = loRank >= SAMPLE ? 0 : sample[SAMPLE - 1 - loRank];
            int inWindow = 0;
            for (int key : sample) {
                inWindow += key >= lo && key <= hi ? 1 : 0;
            }
            windows[j] = new Window(n, lo, hi, (double) inWindow / SAMPLE);
        }
    }

    /** One pass over the values: each non-null window records its selection's keys. */
    private static void record(int n, Values values, Window[] windows) {
        int m = windows.length;
        boolean any = false;
        for (Window w : windows) {
            any |= w != null;
        }
        if (!any) {
            return;
        }
        Chunks.forEach(n, (c, from, to) -> {
            float[][] buffers = Chunks.buffers(m + 1);
            float[][] dst = Arrays.copyOf(buffers, m);
            values.read(from, to - from, dst, buffers[m]);
            for (int j = 0; j < m; j++) {
                if (windows[j] != null) {
                    windows[j].record(c, dst[j], to - from);
                }
            }
        });
    }

    /** The keys of one selection in a window [lo, hi]: counted above it, listed inside it, per chunk. */
    private static final class Window {

        private final int lo;
        private final int hi;
        private final double inWindowShare; // expected share of a chunk's keys inside the window
        private final long[] above; // per chunk: keys > hi
        private final int[][] lists; // per chunk: the keys in [lo, hi], in index order
        private final int[] sizes;

        Window(int n, int lo, int hi, double inWindowShare) {
            this.lo = lo;
            this.hi = hi;
            this.inWindowShare = inWindowShare;
            int chunks = Chunks.count(n);
            this.above = new long[chunks];
            this.lists = new int[chunks][];
            this.sizes = new int[chunks];
        }

        /** The window of every key. */
        static Window everyKey(int n) {
            return new Window(n, 0, Integer.MAX_VALUE, 1);
        }

        /** Records values[0, len), the elements of chunk c (each chunk from one thread, in one call). */
        void record(int c, float[] values, int len) {
            // first size: the sample's share in the window, with room; grown by blocks when that was short
            int[] list = new int[(int) Math.min(len, 1.25 * inWindowShare * len + BLOCK)];
            int s = 0;
            long a = 0;
            for (int b0 = 0; b0 < len; b0 += BLOCK) {
                int b1 = Math.min(len, b0 + BLOCK);
                if (list.length < s + (b1 - b0)) {
                    list = Arrays.copyOf(list, Math.min(len, Math.max(s + BLOCK, 2 * s)));
                }
                for (int t = b0; t < b1; t++) {
                    int key = key(values[t]);
                    int outAbove = hi - key; // negative iff key > hi (no overflow: keys, lo and hi are non-negative)
                    a += outAbove >>> 31;
                    list[s] = key; // kept only if in the window (branch-free compaction)
                    s += 1 ^ (((key - lo) | outAbove) >>> 31);
                }
            }
            lists[c] = list;
            sizes[c] = s;
            above[c] = a;
        }

        /**
         * The exact cut keeping the k largest recorded keys of selection j of m (lowest indices first among
         * equals), or null when the k-th largest key lies outside the window. The values of selection j are read again only in the one
         * chunk where the quota of keys equal to the threshold runs out, to find the index where it does.
         */
        TopKCut cut(int n, int k, int j, int m, Values values) {
            long acc = 0; // keys above the current bucket
            long inWindow = 0;
            int min = Integer.MAX_VALUE;
            int max = 0;
            for (int c = 0; c < sizes.length; c++) {
                acc += above[c];
                inWindow += sizes[c];
                int[] list = lists[c];
                for (int i = 0; i < sizes[c]; i++) {
                    min = Math.min(min, list[i]);
                    max = Math.max(max, list[i]);
                }
            }
            if (acc >= k || acc + inWindow < k) {
                return null;
            }
            // two radix steps over the keys relative to the smallest listed one, sized by their span: at most 4096
            // high buckets, so the first counts stay in cache
            int span = max - min;
            int shift = Math.max(0, 32 - Integer.numberOfLeadingZeros(span) - 12);
            int[] high = new int[(span >>> shift) + 1]; // fewer than 2^31 keys in all
            for (int c = 0; c < lists.length; c++) {
                int[] list = lists[c];
                for (int i = 0; i < sizes[c]; i++) {
                    high[(list[i] - min) >>> shift]++;
                }
            }
            int hb = high.length - 1;
            while (acc + high[hb] < k) {
                acc += high[hb--];
            }
            int[] low = new int[1 << shift];
            for (int c = 0; c < lists.length; c++) {
                int[] list = lists[c];
                for (int i = 0; i < sizes[c]; i++) {
                    int rel = list[i] - min;
                    if (rel >>> shift == hb) {
                        low[rel & (low.length - 1)]++;
                    }
                }
            }
            int lb = low.length - 1;
            while (acc + low[lb] < k) {
                acc += low[lb--];
            }
            int bits = min + ((hb << shift) | lb); // the k-th largest key
            long needEqual = k - acc; // how many of the keys equal to it are kept: the first ones by index
            boolean allEqualKept = needEqual == low[lb];
            int[] split = new int[lists.length];
            for (int c = 0; c < split.length; c++) {
                int from = c * Chunks.SIZE;
                int to = Math.min(n, from + Chunks.SIZE);
                if (allEqualKept) {
                    split[c] = to;
                    continue;
                }
                int[] list = lists[c];
                long equals = 0;
                for (int i = 0; i < sizes[c]; i++) {
                    equals += list[i] == bits ? 1 : 0;
                }
                long q = Math.min(needEqual, equals);
                needEqual -= q;
                split[c] = q == equals ? to : q == 0 ? from : indexAfter(values, j, m, from, to, bits, q);
            }
            return new TopKCut(bits, split);
        }

        /** The index just after the q-th element of [from, to) of selection j whose key equals {@code bits}. */
        private static int indexAfter(Values values, int j, int m, int from, int to, int bits, long q) {
            int len = to - from;
            float[][] dst = new float[m][];
            for (int i = 0; i < dst.length; i++) {
                dst[i] = new float[len];
            }
            values.read(from, len, dst, new float[len]);
            long seen = 0;
            for (int t = 0; t < len; t++) {
                if (key(dst[j][t]) == bits && ++seen == q) {
                    return from + t + 1;
                }
            }
            throw new IllegalStateException("fewer equal keys than counted");
        }
    }
}
