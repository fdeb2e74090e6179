package dev.amalgam.merge.method;

/**
 * Where a streamed merge writes its result, a chunk at a time (FP32 values; a checkpoint writer narrows them to
 * the output dtype as they arrive). Called concurrently for disjoint ranges.
 */
@FunctionalInterface
public interface FloatSink {

    /** Takes elements {@code [from, from + length)} of the result from {@code values[offset, offset + length)}. */
    void write(int from, float[] values, int offset, int length);

    /** A sink that fills an array. */
    static FloatSink into(float[] result) {
        return (from, values, offset, length) -> System.arraycopy(values, offset, result, from, length);
    }
}
