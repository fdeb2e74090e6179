package dev.amalgam.fusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.SafetensorsFile;
import dev.amalgam.modelio.ShardedCheckpointWriter;
import dev.amalgam.modelio.Tensor;
import dev.amalgam.modelio.TensorSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Moves arrays between DJL and safetensors files in row blocks of at most {@link #BLOCK_ELEMENTS} elements, so no
 * tensor is ever held whole on the Java heap (an 8B model's embedding is 2 GB in FP32).
 */
public final class TensorFiles {

    /** Elements per block copied through the heap (16 M floats = 64 MB). */
    static final long BLOCK_ELEMENTS = 1L << 24;

    private TensorFiles() {
    }

    /**
     * Writes tensors (names in order, shapes from {@code shapes}) fetched one at a time from {@code fetch} (which
     * returns an array, closed after writing when {@code closeFetched}) as a single file or shards with an index.
     */
    public static void write(Path dir, List<String> names, Map<String, long[]> shapes, DType dtype,
            long maxShardBytes, Function<String, NDArray> fetch, boolean closeFetched) {
        List<TensorSpec> specs = new ArrayList<>();
        for (String n : names) {
            specs.add(new TensorSpec(n, dtype, shapes.get(n)));
        }
        try (ShardedCheckpointWriter w = ShardedCheckpointWriter.create(dir, specs, maxShardBytes)) {
            for (String n : names) {
                NDArray a = fetch.apply(n);
                try {
                    writeArray(a, (from, chunk) -> w.writeFloats(n, from, chunk, 0, chunk.length));
                } finally {
                    if (closeFetched) {
                        a.close();
                    }
                }
            }
        }
    }

    /** Receives consecutive blocks of a row-major tensor. */
    @FunctionalInterface
    interface BlockSink {
        void accept(long fromIndex, float[] values);
    }

    static void writeArray(NDArray a, BlockSink sink) {
        long[] shape = a.getShape().getShape();
        long rows = shape.length == 0 ? 1 : shape[0];
        long rowElements = rows == 0 ? 0 : a.size() / rows;
        if (shape.length <= 1 || a.size() <= BLOCK_ELEMENTS) {
            if (a.getDataType() == DataType.FLOAT32) {
                sink.accept(0, a.toFloatArray());
            } else {
                try (NDArray f = a.toType(DataType.FLOAT32, true)) {
                    sink.accept(0, f.toFloatArray());
                }
            }
            return;
        }
        long rowsPerBlock = Math.max(1, BLOCK_ELEMENTS / Math.max(1, rowElements));
        for (long r = 0; r < rows; r += rowsPerBlock) {
            long end = Math.min(rows, r + rowsPerBlock);
            try (NDArray block = a.get(new NDIndex(r + ":" + end)); NDArray f = block.toType(DataType.FLOAT32, true)) {
                sink.accept(r * rowElements, f.toFloatArray());
            }
        }
    }

    /** A new FP32 array on {@code manager} with the contents of a stored tensor, built block by block. */
    public static NDArray read(SafetensorsFile file, String name, NDManager manager) {
        Tensor t = file.tensor(name);
        long[] shape = t.shape();
        NDArray out = manager.zeros(new Shape(shape), DataType.FLOAT32);
        long rows = shape.length == 0 ? 1 : shape[0];
        long rowElements = rows == 0 ? 0 : t.numel() / rows;
        if (shape.length <= 1 || t.numel() <= BLOCK_ELEMENTS) {
            float[] all = new float[Math.toIntExact(t.numel())];
            t.readFloats(0, all, 0, all.length);
            try (NDArray src = manager.create(all, new Shape(shape))) {
                out.set(new NDIndex("..."), src);
            }
            return out;
        }
        long rowsPerBlock = Math.max(1, BLOCK_ELEMENTS / Math.max(1, rowElements));
        for (long r = 0; r < rows; r += rowsPerBlock) {
            long end = Math.min(rows, r + rowsPerBlock);
            float[] chunk = new float[Math.toIntExact((end - r) * rowElements)];
            t.readFloats(r * rowElements, chunk, 0, chunk.length);
            long[] blockShape = shape.clone();
            blockShape[0] = end - r;
            try (NDArray src = manager.create(chunk, new Shape(blockShape))) {
                out.set(new NDIndex(r + ":" + end), src);
            }
        }
        return out;
    }
}
