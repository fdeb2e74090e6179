package dev.amalgam.merge.kernel;

/**
 * FP32 vector helpers: dot products and norms accumulated in double (so long tensors keep their precision), and the
 * branch-free block forms of the top-k cut and the TIES sign election, written in min/max arithmetic that C2
 * vectorises (it does not vectorise float-bit reinterpretation).
 */
public final class VectorMath {

    private VectorMath() {
    }

    public static double dot(float[] a, float[] b, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    /** Dot product over whole arrays, parallel in fixed chunks, summed in chunk order (deterministic). */
    public static double dot(float[] a, float[] b) {
        return Chunks.sum(a.length, (from, to) -> dot(a, b, from, to));
    }

    public static double norm(float[] a) {
        return Math.sqrt(dot(a, a));
    }

    public static float[] subtract(float[] a, float[] b) {
        return subtractInto(new float[a.length], a, b);
    }

    /** r = a - b element-wise; r may be a itself. */
    public static float[] subtractInto(float[] r, float[] a, float[] b) {
        Chunks.forEach(a.length, (c, from, to) -> {
            for (int i = from; i < to; i++) {
                r[i] = a[i] - b[i];
            }
        });
        return r;
    }

    /**
     * 1 when v has the elected sign (the sign of {@code sum}, where 0 counts as +) and is not zero, else 0;
     * integer arithmetic on the float bits, so loops using it have no data-dependent branches and vectorise.
     */
    public static int agrees(float v, float sum) {
        int flip = (Float.floatToRawIntBits(sum) >> 31) & 0x80000000; // sum < 0: compare against -v
        int f = Float.floatToRawIntBits(v) ^ flip;
        return ((-f) & ~f) >>> 31; // 1 iff f > 0, i.e. a positive non-zero float
    }

    /** 2^127: x * HUGE * HUGE turns any non-zero finite float into one of magnitude >= 2^105 (or infinite). */
    public static final float HUGE = 0x1p127f;

    /**
     * v[t] = w * d[s0 + t] with the elements whose magnitude key is at or below {@code limit} zeroed (-1: none;
     * Integer.MAX_VALUE: all, see {@link TopKCut}); then sum[t] = (first ? 0 : sum[t]) + v[t], the additions of a
     * zero-filled sum in the same order, without the fill. The block is copied into v first, so the loops index
     * one array from 0 and vectorise.
     */
    public static void loadWeighted(float[] v, float[] sum, boolean first, float[] d, int s0, int len, int limit,
                             float w) {
        if (limit == Integer.MAX_VALUE) {
            java.util.Arrays.fill(v, 0, len, 0f);
        } else {
            System.arraycopy(d, s0, v, 0, len);
            if (limit < 0) {
                for (int t = 0; t < len; t++) {
                    v[t] = w * v[t];
                }
            } else if (limit < INFINITY_KEY) {
                float threshold = Float.intBitsToFloat(limit);
                for (int t = 0; t < len; t++) {
                    v[t] = w * (v[t] * keepFactor(v[t], threshold));
                }
            } else { // an infinite or NaN threshold: the bit-level mask
                for (int t = 0; t < len; t++) {
                    int b = Float.floatToRawIntBits(v[t]);
                    v[t] = w * Float.intBitsToFloat(b & TopKCut.keepMask(b, limit));
                }
            }
        }
        if (first) {
            for (int t = 0; t < len; t++) {
                sum[t] = 0f + v[t];
            }
        } else {
            addTo(sum, v, len);
        }
    }

    /** a[t] += b[t]. */
    public static void addTo(float[] a, float[] b, int len) {
        for (int t = 0; t < len; t++) {
            a[t] += b[t];
        }
    }

    /** Whether a[0..len) are all finite (a max reduction, which vectorises; NaN propagates through Math.max). */
    public static boolean finite(float[] a, int len) {
        float m = 0f;
        for (int t = 0; t < len; t++) {
            m = Math.max(m, Math.abs(a[t]));
        }
        return m <= Float.MAX_VALUE;
    }

    /** sign[t] = +1 where sum[t] >= 0 (0 counts as +), -1 where it is negative; for finite sums that are never -0. */
    public static void electedSigns(float[] sign, float[] sum, int len) {
        for (int t = 0; t < len; t++) {
            sign[t] = 2f * Math.max(-1f, Math.min(0f, sum[t] * HUGE * HUGE)) + 1f;
        }
    }

    /**
     * mixed[t] = (first ? 0 : mixed[t]) + a * v[t], div[t] = (first ? 0 : div[t]) + a * w, a = 1 where v[t] is
     * non-zero and has the elected sign, else 0: the same values as {@link #agrees} for finite sums, computed
     * with min/max arithmetic, which C2 vectorises (it does not vectorise float-bit reinterpretation).
     */
    public static void addAgreeing(float[] mixed, float[] div, boolean first, float[] v, float[] sign, float w, int len) {
        if (first) {
            for (int t = 0; t < len; t++) {
                float a = agreeFactor(sign[t], v[t]);
                mixed[t] = 0f + a * v[t];
                div[t] = 0f + a * w;
            }
        } else {
            for (int t = 0; t < len; t++) {
                float a = agreeFactor(sign[t], v[t]);
                mixed[t] += a * v[t];
                div[t] += a * w;
            }
        }
    }

    /** The magnitude key of +infinity; keys above it are NaNs. */
    public static final int INFINITY_KEY = 0x7f800000;

    /**
     * 1 where |v| > threshold, else 0, for a finite non-negative threshold; NaN where v is NaN, so that v times it
     * stays NaN (NaN keys are above every finite key: kept). Times v, this equals the bit-level mask of
     * {@link TopKCut#keepMask} except that a dropped negative v becomes -0 instead of +0, which no sum or sign
     * election downstream can tell apart. Float min/max arithmetic, which C2 vectorises: with gradual underflow
     * |v| - threshold is positive exactly when |v| > threshold, and at least 2^-149, which times 2^254 is >= 1.
     */
    public static float keepFactor(float v, float threshold) {
        return Math.min(1f, Math.max(0f, (Math.abs(v) - threshold) * HUGE * HUGE));
    }

    /** 1 where v is non-zero and has the sign {@code sign} (+1 or -1), else 0 (v finite). */
    public static float agreeFactor(float sign, float v) {
        return Math.min(1f, Math.max(0f, sign * v * HUGE * HUGE));
    }

    /**
     * {@code v == 0 ? 1f : v} (for every v, NaN and infinities included) as min/max arithmetic, which vectorises
     * and has no unpredictable branch: |v| * 2^254 is 0 for a zero and at least 1 otherwise.
     */
    public static float oneIfZero(float v) {
        return v + (1f - Math.min(1f, Math.abs(v) * HUGE * HUGE));
    }
}
