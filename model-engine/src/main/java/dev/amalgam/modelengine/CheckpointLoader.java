package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.Dtypes;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Loads a Hugging Face model directory (single or sharded safetensors) into a {@link LlamaModel}.
 * Each tensor is read from the memory-mapped file, widened in Java (DJL cannot hold BF16) into one direct buffer of
 * the compute type, and handed to PyTorch, which on the CPU adopts that buffer without a further copy: the cost is
 * the FP32 (or FP16) size of the model plus one tensor in flight.
 *
 * <pre>{@code
 * try (LlamaModel model = CheckpointLoader.load(Path.of("/models/qwen2-0.5b"), EngineOptions.cpu())) { ... }
 * }</pre>
 */
public final class CheckpointLoader {

    /** Largest buffer handed to DJL at once; bigger tensors are built from row blocks and concatenated. */
    private static final long MAX_BLOCK_BYTES = 1L << 30;
    private static final int CHUNK = 1 << 16;

    private CheckpointLoader() {
    }

    /** Opens {@code dir} with model-io and loads it. */
    public static LlamaModel load(Path dir, EngineOptions options) {
        try (HfModelDir hf = HfModelDir.open(dir)) {
            return load(hf, options);
        }
    }

    /** Loads an already opened directory (the caller keeps it open or closes it afterwards; the model does not need it). */
    public static LlamaModel load(HfModelDir dir, EngineOptions options) {
        LlamaConfig config = LlamaConfig.fromJson(dir.config());
        ModelMemory.checkFits(dir, options);
        NDManager manager = DjlRuntime.newManager(options.device());
        try {
            LlamaWeights weights = LlamaWeights.load(config, (name, shape) -> {
                if (!dir.hasTensor(name)) {
                    boolean compact = dir.config().has("drop_attn_list") || dir.config().has("drop_mlp_list");
                    throw new UnsupportedModelException(dir.dir() + " has no tensor " + name + " required by "
                            + config.architecture().className(config.head()) + (compact
                            ? "; config.json drops blocks (drop_attn_list/drop_mlp_list): load this compact pruned"
                                    + " checkpoint with the pruning module's CompactCheckpointLoader" : ""));
                }
                return toNDArray(dir.tensor(name), shape, manager, options.computeType());
            });
            return new LlamaModel(config, options, manager, weights);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** Copies one stored tensor into a new array of {@code type} (FLOAT32 or FLOAT16) owned by {@code manager}. */
    static NDArray toNDArray(Tensor t, long[] expectedShape, NDManager manager, DataType type) {
        if (!Arrays.equals(t.shape(), expectedShape)) {
            throw new UnsupportedModelException("tensor " + t.name() + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(expectedShape));
        }
        if (!t.dtype().isFloatingPoint()) {
            throw new UnsupportedModelException("tensor " + t.name() + " has non-float dtype " + t.dtype()
                    + " (quantised checkpoints are not supported)");
        }
        int bytesPerElement = type == DataType.FLOAT16 ? 2 : 4;
        long rows = expectedShape.length == 0 ? 1 : expectedShape[0];
        long rowElements = rows == 0 ? 0 : t.numel() / rows;
        long rowsPerBlock = Math.max(1, MAX_BLOCK_BYTES / Math.max(1, rowElements * bytesPerElement));
        if (rows <= rowsPerBlock) {
            return block(t, 0, t.numel(), new Shape(expectedShape), manager, type);
        }
        // Larger than one direct buffer may be (e.g. a 128k x 4096 FP32 embedding): build in row blocks.
        NDList parts = new NDList();
        try {
            for (long r = 0; r < rows; r += rowsPerBlock) {
                long n = Math.min(rowsPerBlock, rows - r);
                long[] partShape = expectedShape.clone();
                partShape[0] = n;
                parts.add(block(t, r * rowElements, n * rowElements, new Shape(partShape), manager, type));
            }
            return NDArrays.concat(parts, 0);
        } finally {
            parts.close();
        }
    }

    private static NDArray block(Tensor t, long from, long count, Shape shape, NDManager manager, DataType type) {
        int n = Math.toIntExact(count);
        ByteBuffer buf = ByteBuffer.allocateDirect(n * (type == DataType.FLOAT16 ? 2 : 4)).order(ByteOrder.nativeOrder());
        if (type == DataType.FLOAT32 && t.dtype() == DType.F32 && t.numel() * 4 <= Integer.MAX_VALUE
                && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            // Same bytes: one bulk copy out of the mapped file.
            ByteBuffer raw = t.rawBytes().duplicate();
            raw.position(Math.toIntExact(from * 4)).limit(Math.toIntExact((from + count) * 4));
            buf.put(raw);
        } else {
            float[] chunk = new float[(int) Math.min(CHUNK, Math.max(1, count))];
            FloatBuffer asFloats = type == DataType.FLOAT32 ? buf.asFloatBuffer() : null;
            ShortBuffer asHalves = type == DataType.FLOAT16 ? buf.asShortBuffer() : null;
            for (long i = 0; i < count; i += chunk.length) {
                int len = (int) Math.min(chunk.length, count - i);
                t.readFloats(from + i, chunk, 0, len); // widened from BF16/F16/F8/F64 by model-io
                if (asFloats != null) {
                    asFloats.put(chunk, 0, len);
                } else {
                    for (int j = 0; j < len; j++) {
                        asHalves.put(Dtypes.floatToF16(chunk[j]));
                    }
                }
            }
        }
        buf.rewind();
        return manager.create(buf, shape, type);
    }
}
