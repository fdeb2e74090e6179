package dev.amalgam.merge.method.legacy;

import dev.amalgam.merge.method.*;

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

    /** Dot product over whole arrays, parallel in fixed chunks, summed in chunk order (deterministic). */
    static double dot(float[] a, float[] b) {
        return Chunks.sum(a.length, (from, to) -> dot(a, b, from, to));
    }

    static double norm(float[] a) {
        return Math.sqrt(dot(a, a));
    }

    static double sumAbs(float[] a) {
        return Chunks.sum(a.length, (from, to) -> {
            double s = 0;
            for (int i = from; i < to; i++) {
                s += Math.abs(a[i]);
            }
            return s;
        });
    }

    static float[] subtract(float[] a, float[] b) {
        return subtractInto(new float[a.length], a, b);
    }

    /** r = a - b element-wise; r may be a itself. */
    static float[] subtractInto(float[] r, float[] a, float[] b) {
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
    static int agrees(float v, float sum) {
        int flip = (Float.floatToRawIntBits(sum) >> 31) & 0x80000000; // sum < 0: compare against -v
        int f = Float.floatToRawIntBits(v) ^ flip;
        return ((-f) & ~f) >>> 31; // 1 iff f > 0, i.e. a positive non-zero float
    }

    /** Sign as mergekit/torch define it: -1, 0 or +1. */
    static int sign(float v) {
        return v > 0 ? 1 : (v < 0 ? -1 : 0);
    }

    /** Mask of exactly {@code k} positions with the largest magnitudes; see {@link TopK}. */
    static boolean[] topK(float[] values, int k) {
        return TopK.mask(values, k);
    }

    static float[] abs(float[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.abs(a[i]);
        }
        return r;
    }
}
