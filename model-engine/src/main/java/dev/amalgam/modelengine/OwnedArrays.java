package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Arrays for autograd graphs, in memory that PyTorch allocates and reference-counts.
 *
 * <p>On the CPU, DJL's {@code NDManager.create(...)} hands PyTorch a Java direct buffer without copying it, and
 * {@code NDArray.mul(Number)} (also add, sub, div, maximum, ...) makes its scalar that way and closes it right after
 * the op. Autograd keeps some operands until backward: mul and div their other factor, embedding its token ids,
 * gather its index. Once DJL has closed such an array, the garbage collector may free its buffer at any moment, and
 * a later backward reads whatever the allocator left there: gradients then depend on when the JVM collected (or
 * fail with an out-of-range index). An array PyTorch allocated stays valid for as long as autograd holds it, whatever
 * DJL closes. So graph code takes its scalars and its Java data from here.
 *
 * <pre>{@code
 * NDArray scaled = OwnedArrays.mul(q, 1.0 / Math.sqrt(d));          // instead of q.mul(1.0 / Math.sqrt(d))
 * NDArray ids = OwnedArrays.own(scope.create(tokenIds, shape));    // a PyTorch copy; the wrapped buffer is closed
 * }</pre>
 */
public final class OwnedArrays {

    private OwnedArrays() {
    }

    /** {@code value} as a 0-d array of the type DJL gives it (FLOAT64 for a double, INT32 for an int), in PyTorch memory. */
    public static NDArray scalar(NDManager manager, Number value) {
        return own(manager.create(value));
    }

    /** A PyTorch-allocated copy of {@code javaData} on the same manager; {@code javaData} is closed. */
    public static NDArray own(NDArray javaData) {
        NDArray copy = javaData.duplicate(); // torch clone: fresh storage owned by PyTorch
        javaData.close();
        return copy;
    }

    /** {@code a * n}, computed exactly as {@code a.mul(n)}. */
    public static NDArray mul(NDArray a, Number n) {
        try (NDArray s = scalar(a.getManager(), n)) {
            return a.mul(s); // autograd holds its own reference to s's storage
        }
    }

    /** {@code a / n}, computed exactly as {@code a.div(n)}. */
    public static NDArray div(NDArray a, Number n) {
        try (NDArray s = scalar(a.getManager(), n)) {
            return a.div(s);
        }
    }

    /** {@code a + n}, computed exactly as {@code a.add(n)}. */
    public static NDArray add(NDArray a, Number n) {
        try (NDArray s = scalar(a.getManager(), n)) {
            return a.add(s);
        }
    }

    /** {@code a - n}, computed exactly as {@code a.sub(n)}. */
    public static NDArray sub(NDArray a, Number n) {
        try (NDArray s = scalar(a.getManager(), n)) {
            return a.sub(s);
        }
    }

    /** {@code max(a, n)} element-wise, computed exactly as {@code a.maximum(n)}. */
    public static NDArray maximum(NDArray a, Number n) {
        try (NDArray s = scalar(a.getManager(), n)) {
            return a.maximum(s);
        }
    }
}
