package dev.amalgam.merge.method;

import java.util.Arrays;
import java.util.stream.IntStream;

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

    private static int key(float v) {
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
        long[] high = histogram(x, HIGH, -1, v -> key(v) >>> 16);
        int hb = HIGH - 1;
        long above = 0; // elements in buckets strictly above hb
        while (above + high[hb] < k) {
            above += high[hb--];
        }
        final int bucket = hb;
        long[] low = histogram(x, LOW, bucket, v -> key(v) & 0xffff);
        int lb = LOW - 1;
        while (above + low[lb] < k) {
            above += low[lb--];
        }
        return new Threshold((bucket << 16) | lb, k - above, low[lb]);
    }

    /** Whether an element passes a simple threshold. */
    static boolean atOrAbove(float v, Threshold t) {
        return key(v) >= t.bits();
    }

    /** Zeroes all but the k largest magnitudes of x, in place. */
    static void keepInPlace(float[] x, int k) {
        int n = x.length;
        if (k >= n) {
            return;
        }
        if (k <= 0) {
            Arrays.fill(x, 0f);
            return;
        }
        Threshold t = threshold(x, k);
        if (!t.simple()) {
            boolean[] keep = mask(x, k);
            Chunks.forEach(n, (c, from, to) -> {
                for (int i = from; i < to; i++) {
                    if (!keep[i]) {
                        x[i] = 0;
                    }
                }
            });
            return;
        }
        int bits = t.bits();
        Chunks.forEach(n, (c, from, to) -> {
            for (int i = from; i < to; i++) {
                if (key(x[i]) < bits) {
                    x[i] = 0;
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
        final int threshold = t.bits();
        int chunks = Chunks.count(n);
        long[] equalsIn = new long[chunks];
        if (!t.simple()) {
            Chunks.forEach(n, (c, from, to) -> {
                long e = 0;
                for (int i = from; i < to; i++) {
                    e += key(x[i]) == threshold ? 1 : 0;
                }
                equalsIn[c] = e;
            });
        }
        long[] quota = new long[chunks];
        long left = t.needEqual();
        for (int c = 0; c < chunks; c++) {
            quota[c] = t.simple() ? Long.MAX_VALUE : Math.min(left, equalsIn[c]);
            left -= t.simple() ? 0 : quota[c];
        }
        Chunks.forEach(n, (c, from, to) -> {
            long q = quota[c];
            for (int i = from; i < to; i++) {
                int b = key(x[i]);
                if (b > threshold) {
                    keep[i] = true;
                } else if (b == threshold && q > 0) {
                    keep[i] = true;
                    q--;
                }
            }
        });
        return keep;
    }

    private interface Key {
        int of(float v);
    }

    /** Histogram of key(v) over all elements, or only those whose high bucket is {@code onlyHigh}. */
    private static long[] histogram(float[] x, int buckets, int onlyHigh, Key key) {
        int n = x.length;
        int parts = Math.min(Chunks.count(n), 4 * Runtime.getRuntime().availableProcessors());
        int per = (n + parts - 1) / parts;
        return IntStream.range(0, parts).parallel().mapToObj(p -> {
            long[] h = new long[buckets];
            int to = Math.min(n, (p + 1) * per);
            for (int i = p * per; i < to; i++) {
                if (onlyHigh < 0 || (key(x[i]) >>> 16) == onlyHigh) {
                    h[key.of(x[i])]++;
                }
            }
            return h;
        }).reduce(new long[buckets], (a, b) -> {
            long[] r = new long[buckets];
            for (int i = 0; i < buckets; i++) {
                r[i] = a[i] + b[i];
            }
            return r;
        });
    }
}
