package dev.amalgam.modelio;

import java.util.Arrays;
import java.util.Objects;

/** What a writer needs to know about a tensor before its data arrives: name, dtype and shape. */
public record TensorSpec(String name, DType dtype, long[] shape) {

    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = Shapes.checkedCopy(shape);
        Math.multiplyExact(Shapes.numel(shape), (long) dtype.size());
    }

    /** A spec with the same name, dtype and shape as an existing tensor. */
    public static TensorSpec of(Tensor tensor) {
        return new TensorSpec(tensor.name(), tensor.dtype(), tensor.shape());
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

    /** Bytes the tensor takes in the data buffer. */
    public long byteSize() {
        return numel() * dtype.size();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
