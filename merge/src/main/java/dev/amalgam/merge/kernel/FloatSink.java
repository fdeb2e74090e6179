package dev.amalgam.merge.kernel;

/**
 * Where a streamed merge writes its result, a chunk at a time (FP32 values; a checkpoint writer narrows them to
 * the output dtype as they arrive). Called concurrently for disjoint ranges.
 */
@FunctionalInterface
public interface FloatSink {

    /** Takes elements {@code [from, from + length)} of the result from {@code values[offset, offset + length)}. */
    void write(int from, float[] values, int offset, int length);

    /** Hands over a whole result, one {@link Chunks} chunk per call (as streamed methods do). */
    default void writeAll(float[] result) {
        Chunks.forEach(result.length, (c, from, to) -> write(from, result, from, to - from));
    }

    /** A sink that fills an array. */
    static FloatSink into(float[] result) {
        return (from, values, offset, length) -> System.arraycopy(values, offset, result, from, length);
    }
}
