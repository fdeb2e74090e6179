package dev.amalgam.modelio;

import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of a safetensors header: the tensor's name, dtype, shape and its byte range
 * {@code [begin, end)} relative to the start of the data buffer (as in {@code data_offsets}).
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = Shapes.checkedCopy(shape);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("bad data_offsets [" + begin + ", " + end + "] for " + name);
        }
    }

    /** A copy of the shape (row-major). */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements; 1 for a 0-dim tensor. */
    public long numel() {
        return Shapes.numel(shape);
    }

    /** Bytes in the data buffer, {@code end - begin}. */
    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
    }
}
