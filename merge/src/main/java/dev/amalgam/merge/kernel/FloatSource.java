package dev.amalgam.merge.kernel;

/**
 * One input tensor as FP32 values, read by element range: a memory-mapped checkpoint tensor widened as it is
 * read, or an array. Streamed methods read it a chunk at a time instead of holding every input widened to FP32 in
 * the heap.
 *
 * <p>Implementations are safe for concurrent reads of different ranges.
 */
public interface FloatSource {

    /** Number of elements. */
    int length();

    /** Copies elements {@code [from, from + length)} into {@code dst[offset, offset + length)}. */
    void read(int from, float[] dst, int offset, int length);

    /** A source over an array (not copied). */
    static FloatSource of(float[] values) {
        return new ArraySource(values);
    }

    /** All elements in a new array, read in parallel chunks. */
    default float[] toArray() {
        float[] a = new float[length()];
        Chunks.forEach(a.length, (c, from, to) -> read(from, a, from, to - from));
        return a;
    }

    /** A source over an array. */
    record ArraySource(float[] values) implements FloatSource {
        @Override
        public int length() {
            return values.length;
        }

        @Override
        public void read(int from, float[] dst, int offset, int length) {
            System.arraycopy(values, from, dst, offset, length);
        }
    }
}
