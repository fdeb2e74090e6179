package dev.amalgam.modelio;

import java.nio.ByteBuffer;

/**
 * A read-only view of one stored tensor. Every dtype is widened to {@code float} on read, so
 * algorithms never switch on the storage format. Implementations are safe for concurrent reads.
 *
 * <pre>{@code
 * try (SafetensorsFile f = SafetensorsFile.open(path)) {
 *     Tensor w = f.tensor("model.norm.weight");   // shape [hidden]
 *     float[] chunk = new float[4096];
 *     w.readFloats(0, chunk, 0, (int) Math.min(4096, w.numel()));
 * }
 * }</pre>
 */
public interface Tensor {

    String name();

    DType dtype();

    /** A copy of the shape (row-major); {@code []} for a scalar. */
    long[] shape();

    /** Number of elements; 1 for a 0-dim tensor, 0 when a dimension is 0. */
    long numel();

    /** The element at flat row-major {@code index}, widened to float. */
    float getFloat(long index);

    /** Copies {@code length} elements starting at flat {@code fromIndex}, widened, into {@code dst}. */
    void readFloats(long fromIndex, float[] dst, int dstOffset, int length);

    /**
     * The whole tensor as floats.
     *
     * @throws IllegalStateException if it has more than {@code Integer.MAX_VALUE - 8} elements
     */
    default float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor '" + name() + "' has " + n
                    + " elements, too many for one float[]; read it in chunks with readFloats");
        }
        float[] out = new float[(int) n];
        readFloats(0, out, 0, out.length);
        return out;
    }

    /** The stored bytes as a little-endian, read-only buffer (position 0, limit = byte size). */
    ByteBuffer rawBytes();
}
