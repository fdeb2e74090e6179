package dev.amalgam.merge.method;

import java.util.Arrays;

/**
 * Exact top-k by magnitude with a two-pass radix select on the float bits (|x| as an int is ordered like |x|),
 * parallel over chunks and without sorting or copying the tensor. Among equal magnitudes at the threshold, the
 * lowest indices are kept (mergekit leaves that order unspecified).
 */
final class TopK {

    private static final int HIGH = 1 << 15; // bits 30..16 of |x| (sign dropped)
    private static final int LOW = 1 << 16;  // bits 15..0

    private TopK() {
    }

    /** The magnitude key of a value: |v| as float bits, ordered like |v| (NaNs above infinity). */
    static int key(float v) {
        return Float.floatToRawIntBits(v) & 0x7fffffff;
    }

    /**
     * The k-th largest magnitude, as float bits: keep every element whose key is above {@code bits} and
     * {@code needEqual} of the {@code equalCount} elements whose key equals it.
     */
    record Threshold(int bits, long needEqual, long equalCount) {
        /** Whether every element at the threshold is kept, so "key >= bits" decides alone. */
        boolean simple() {
            return needEqual == equalCount;
        }
    }

    /** Threshold for 0 < k < x.length: two histogram passes over the data. */
    static Threshold threshold(float[] x, int k) {
        return threshold(x, k, histogram(x, HIGH, -1, v -> key(v) >>> 16));
    }

    /**
     * Threshold from a high-bits histogram the caller built while producing x (see {@link #highBucket}),
     * saving one pass.
     */
    static Threshold threshold(float[] x, int k, long[] high) {
        HighCut h = highCut(high, k);
        return threshold(h, histogram(x, LOW, h.bucket(), v -> key(v) & 0xffff), k);
    }

    /** Histogram bucket count for {@link #threshold(float[], int, long[])}. */
    static final int HIGH_BUCKETS = HIGH;

    /** The high-bits bucket of a value's magnitude. */
    static int highBucket(float v) {
        return key(v) >>> 16;
    }

    /** Zeroes all but the k largest magnitudes of x, in place (two histogram passes, at most two more). */
    static void keepInPlace(float[] x, int k) {
        keepInPlace(x, k, null);
    }

    /** As {@link #keepInPlace(float[], int)} with a precomputed high-bits histogram (or null). */
    static void keepInPlace(float[] x, int k, long[] high) {
        int n = x.length;
        if (k >= n) {
            return;
        }
        if (k <= 0) {
            Arrays.fill(x, 0f);
            return;
        }
        Threshold t = high == null ? threshold(x, k) : threshold(x, k, high);
        int bits = t.bits();
        if (t.simple()) { // branch-free, vectorisable
            Chunks.forEach(n, (c, from, to) -> {
                zeroBelow(x, from, to, bits);
            });
            return;
        }
        // ties at the threshold: keep the first needEqual by index. Zero everything below (branch-free), then
        // drop the surplus equal ones, which only chunks past the quota boundary hold (rare branch, predictable).
        long[] equals = equalCounts(x, bits);
        long[] quota = quotas(equals, t.needEqual());
        Chunks.forEach(n, (c, from, to) -> {
            zeroBelow(x, from, to, bits);
            long q = quota[c];
            if (q < equals[c]) {
                for (int i = from; i < to; i++) {
                    if (key(x[i]) == bits) {
                        if (q > 0) {
                            q--;
                        } else {
                            x[i] = 0;
                        }
                    }
                }
            }
        });
    }

    /** Mask of exactly {@code k} positions with the largest |x|. */
    static boolean[] mask(float[] x, int k) {
        int n = x.length;
        boolean[] keep = new boolean[n];
        if (k <= 0) {
            return keep;
        }
        if (k >= n) {
            Arrays.fill(keep, true);
            return keep;
        }
        Threshold t = threshold(x, k);
        int bits = t.bits();
        long[] quota = t.simple() ? null : quotas(equalCounts(x, bits), t.needEqual());
        Chunks.forEach(n, (c, from, to) -> {
            long q = quota == null ? Long.MAX_VALUE : quota[c];
            for (int i = from; i < to; i++) {
                int b = key(x[i]);
                if (b > bits) {
                    keep[i] = true;
                } else if (b == bits && q > 0) {
                    keep[i] = true;
                    q--;
                }
            }
        });
        return keep;
    }

    /** Zeroes the elements whose magnitude key is below {@code bits}, with bit masks instead of branches. */
    private static void zeroBelow(float[] x, int from, int to, int bits) {
        for (int i = from; i < to; i++) {
            int b = Float.floatToRawIntBits(x[i]);
            int below = ((b & 0x7fffffff) - bits) >> 31; // all ones iff key < bits (no overflow: 31-bit keys)
            x[i] = Float.intBitsToFloat(b & ~below);
        }
    }

    /** Number of elements whose magnitude key equals {@code bits}, per chunk (branch-free count). */
    private static long[] equalCounts(float[] x, int bits) {
        long[] equals = new long[Chunks.count(x.length)];
        Chunks.forEach(x.length, (c, from, to) -> {
            int e = 0;
            for (int i = from; i < to; i++) {
                e += ((key(x[i]) ^ bits) - 1) >>> 31; // 1 iff equal (keys are non-negative)
            }
            equals[c] = e;
        });
        return equals;
    }

    /** How many equal elements each chunk keeps: the first {@code need} by index. */
    private static long[] quotas(long[] equals, long need) {
        long[] quota = new long[equals.length];
        long left = need;
        for (int c = 0; c < equals.length; c++) {
            quota[c] = Math.min(left, equals[c]);
            left -= quota[c];
        }
        return quota;
    }

    /**
     * The top-k cut of x for 0 < k < x.length, from the high-bits histogram built while x was written, with one
     * more pass: it lists, per chunk, the low bits of the keys in the threshold's high bucket (branch-free
     * compaction; a few percent of the elements), from which both the low-bits histogram and the per-chunk
     * counts of keys equal to the threshold follow without reading x again.
     */
    static TopKCut cut(float[] x, int k, long[] high) {
        int n = x.length;
        HighCut h = highCut(high, k);
        int bucket = h.bucket();
        char[][] lows = new char[Chunks.count(n)][];
        int[] sizes = new int[lows.length];
        Chunks.forEach(n, (c, from, to) -> {
            char[] a = new char[1024];
            int s = 0;
            for (int b0 = from; b0 < to; b0 += 2048) {
                int b1 = Math.min(to, b0 + 2048);
                if (s + (b1 - b0) > a.length) {
                    a = Arrays.copyOf(a, Math.max(2 * a.length, s + (b1 - b0)));
                }
                for (int i = b0; i < b1; i++) {
                    int key = key(x[i]);
                    a[s] = (char) key; // kept only if in the bucket
                    s += (((key >>> 16) ^ bucket) - 1) >>> 31;
                }
            }
            lows[c] = a;
            sizes[c] = s;
        });
        long[] low = new long[LOW];
        for (int c = 0; c < lows.length; c++) {
            for (int i = 0; i < sizes[c]; i++) {
                low[lows[c][i]]++;
            }
        }
        Threshold t = threshold(h, low, k);
        int bits = t.bits();
        long[] equals = null;
        if (!t.simple()) {
            equals = new long[lows.length];
            char lb = (char) bits;
            for (int c = 0; c < lows.length; c++) {
                long e = 0;
                for (int i = 0; i < sizes[c]; i++) {
                    e += lows[c][i] == lb ? 1 : 0;
                }
                equals[c] = e;
            }
        }
        return cut(n, t, equals, equalScan(x));
    }

    /** The boundary scan over the values x themselves. */
    static BoundaryScan equalScan(float[] x) {
        return (from, to, bits, q) -> {
            long seen = 0;
            for (int i = from; i < to; i++) {
                if (key(x[i]) == bits && ++seen == q) {
                    return i + 1;
                }
            }
            throw new IllegalStateException("fewer equal keys than counted");
        };
    }

    /** The high-bits bucket that holds the k-th largest key, and how many keys lie in buckets above it. */
    record HighCut(int bucket, long above) {
    }

    /** First radix step for 0 < k < n, from the high-bits histogram. */
    static HighCut highCut(long[] high, int k) {
        int hb = HIGH - 1;
        long above = 0;
        while (above + high[hb] < k) {
            above += high[hb--];
        }
        return new HighCut(hb, above);
    }

    /** Second radix step, from the low-bits histogram of the keys in the bucket of {@code h}. */
    static Threshold threshold(HighCut h, long[] low, int k) {
        long above = h.above();
        int lb = LOW - 1;
        while (above + low[lb] < k) {
            above += low[lb--];
        }
        return new Threshold((h.bucket() << 16) | lb, k - above, low[lb]);
    }

    /** Finds, in chunk [from, to), the index just after the q-th element whose key equals {@code bits}. */
    interface BoundaryScan {
        int indexAfter(int from, int to, int bits, long q);
    }

    /**
     * The cut for a threshold: chunks keep their equal keys while the quota {@code needEqual} lasts (lowest
     * indices first); {@code equals} (per chunk) may be null when the threshold is simple.
     */
    static TopKCut cut(int n, Threshold t, long[] equals, BoundaryScan scan) {
        int[] split = new int[Chunks.count(n)];
        long left = t.needEqual();
        for (int c = 0; c < split.length; c++) {
            int from = c * Chunks.SIZE;
            int to = Math.min(n, from + Chunks.SIZE);
            if (t.simple()) {
                split[c] = to;
                continue;
            }
            long q = Math.min(left, equals[c]);
            left -= q;
            split[c] = q == equals[c] ? to : q == 0 ? from : scan.indexAfter(from, to, t.bits(), q);
        }
        return new TopKCut(t.bits(), split);
    }

    /** Work on [from, to) that also fills a local high-bits histogram. */
    interface HighPartBody {
        void run(int from, int to, HighHistogram hist);
    }

    /**
     * Runs the body over contiguous parts of [0, n) in parallel and returns the summed high-bits histogram
     * (HIGH_BUCKETS counts), as {@link #withHistogram} with counters that tolerate runs of equal keys.
     */
    static long[] withHighHistogram(int n, HighPartBody body) {
        return withHistogram(n, HIGH_BUCKETS, (from, to, h) -> {
            HighHistogram local = new HighHistogram();
            body.run(from, to, local);
            local.addTo(h);
        });
    }

    /** Work on [from, to) that also fills a local histogram. */
    interface PartBody {
        void run(int from, int to, long[] hist);
    }

    /** Runs the body over contiguous parts of [0, n) in parallel and returns the summed histograms. */
    static long[] withHistogram(int n, int buckets, PartBody body) {
        int parts = Math.min(Chunks.count(n), 4 * Runtime.getRuntime().availableProcessors());
        int per = (n + parts - 1) / parts;
        long[][] local = new long[parts][];
        Chunks.parallel(parts, p -> {
            local[p] = new long[buckets];
            body.run(Math.min(n, p * per), Math.min(n, (p + 1) * per), local[p]);
        });
        long[] total = new long[buckets];
        for (long[] h : local) {
            for (int i = 0; i < buckets; i++) {
                total[i] += h[i];
            }
        }
        return total;
    }

    private interface Key {
        int of(float v);
    }

    /** Histogram of key(v) over all elements, or only those whose high bucket is {@code onlyHigh}. */
    private static long[] histogram(float[] x, int buckets, int onlyHigh, Key key) {
        return withHistogram(x.length, buckets, (from, to, h) -> {
            for (int i = from; i < to; i++) {
                if (onlyHigh < 0 || (key(x[i]) >>> 16) == onlyHigh) {
                    h[key.of(x[i])]++;
                }
            }
        });
    }
}
