package dev.amalgam.modelio;

import java.util.Arrays;

/** Shape arithmetic shared by the records (row-major, a 0-dim shape has one element). */
final class Shapes {

    private Shapes() {
    }

    /** Product of the dimensions; 1 for shape {@code []}. */
    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    static long[] checkedCopy(long[] shape) {
        if (shape == null) {
            throw new IllegalArgumentException("shape must not be null");
        }
        long[] copy = shape.clone();
        numel(copy);
        return copy;
    }
}
