package dev.amalgam.merge.method;

/** Small FP32 vector helpers; sums are accumulated in double so long tensors keep their precision. */
final class VectorMath {

    private VectorMath() {
    }

    static double dot(float[] a, float[] b, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    static double norm(float[] a, int from, int to) {
        return Math.sqrt(dot(a, a, from, to));
    }

    static double norm(float[] a) {
        return norm(a, 0, a.length);
    }

    static double dot(float[] a, float[] b) {
        return dot(a, b, 0, a.length);
    }

    static double sumAbs(float[] a) {
        double s = 0;
        for (float v : a) {
            s += Math.abs(v);
        }
        return s;
    }

    static float[] subtract(float[] a, float[] b) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] - b[i];
        }
        return r;
    }

    /** Sign as mergekit/torch define it: -1, 0 or +1. */
    static int sign(float v) {
        return v > 0 ? 1 : (v < 0 ? -1 : 0);
    }

    /**
     * The k-th largest value (1-based) of {@code values}, found by quickselect on a copy, O(n) on average.
     */
    static float kthLargest(float[] values, int k) {
        if (k < 1 || k > values.length) {
            throw new IllegalArgumentException("k=" + k + " outside 1.." + values.length);
        }
        float[] a = values.clone();
        int target = a.length - k; // index in ascending order
        int lo = 0;
        int hi = a.length - 1;
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(a.length);
        while (lo < hi) {
            float pivot = a[lo + rnd.nextInt(hi - lo + 1)];
            // three-way partition: [lo, lt) < pivot, [lt, gt] == pivot, (gt, hi] > pivot
            int lt = lo;
            int gt = hi;
            int i = lo;
            while (i <= gt) {
                if (a[i] < pivot) {
                    swap(a, lt++, i++);
                } else if (a[i] > pivot) {
                    swap(a, i, gt--);
                } else {
                    i++;
                }
            }
            if (target < lt) {
                hi = lt - 1;
            } else if (target > gt) {
                lo = gt + 1;
            } else {
                return pivot;
            }
        }
        return a[target];
    }

    private static void swap(float[] a, int i, int j) {
        float t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    /**
     * Mask of exactly {@code k} positions with the largest {@code scores}; among equal scores at the
     * threshold the lowest indices win (mergekit leaves that order unspecified).
     */
    static boolean[] topK(float[] scores, int k) {
        boolean[] keep = new boolean[scores.length];
        if (k <= 0) {
            return keep;
        }
        if (k >= scores.length) {
            java.util.Arrays.fill(keep, true);
            return keep;
        }
        float thr = kthLargest(scores, k);
        int taken = 0;
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] > thr) {
                keep[i] = true;
                taken++;
            }
        }
        for (int i = 0; i < scores.length && taken < k; i++) {
            if (scores[i] == thr) {
                keep[i] = true;
                taken++;
            }
        }
        return keep;
    }

    static float[] abs(float[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.abs(a[i]);
        }
        return r;
    }
}
