package dev.amalgam.pruning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.LlamaWeights;
import dev.amalgam.modelengine.UnsupportedModelException;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Loads a checkpoint in the compact form ({@link OutputForm#COMPACT}): config.json lists layers whose attention or
 * MLP block was removed under {@code drop_attn_list} / {@code drop_mlp_list}, and their tensors are absent. The
 * engine's {@code CheckpointLoader} does not know this convention, so this loader lives here: present tensors are
 * read from the mapped files and widened in Java; an absent tensor of a dropped block becomes a zero-stride
 * broadcast of one zero (no memory), and the returned mask skips those blocks. A plain checkpoint loads with an
 * empty mask.
 *
 * <pre>{@code
 * try (CompactCheckpointLoader.Loaded m = CompactCheckpointLoader.load(dir, EngineOptions.cpu())) {
 *     NDArray logits = m.model().logits(ids, null, m.mask());
 * }
 * }</pre>
 */
public final class CompactCheckpointLoader {

    private static final Pattern LAYER_TENSOR = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");
    private static final long MAX_BLOCK_BYTES = 1L << 30;

    /**
     * A loaded model and the blocks it must skip.
     *
     * @param model the decoder (owns its weights)
     * @param mask the dropped blocks; pass it to every forward
     */
    public record Loaded(LlamaModel model, BlockMask mask) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    private CompactCheckpointLoader() {
    }

    public static Loaded load(Path dir, EngineOptions options) {
        try (HfModelDir hf = HfModelDir.open(dir)) {
            LlamaConfig config = LlamaConfig.fromJson(hf.config());
            dev.amalgam.modelengine.ModelMemory.checkFits(hf, options);
            boolean[] dropAttn = dropList(hf.config(), "drop_attn_list", config.numHiddenLayers());
            boolean[] dropMlp = dropList(hf.config(), "drop_mlp_list", config.numHiddenLayers());
            BlockMask mask = BlockMask.none();
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                mask = dropAttn[i] ? mask.skipAttention(i) : mask;
                mask = dropMlp[i] ? mask.skipMlp(i) : mask;
            }
            NDManager manager = DjlRuntime.newManager(options.device());
            try {
                DataType type = options.computeType();
                LlamaWeights weights = LlamaWeights.load(config, (name, shape) -> {
                    if (hf.hasTensor(name)) {
                        return read(hf.tensor(name), shape, manager, type);
                    }
                    if (!dropped(name, dropAttn, dropMlp)) {
                        throw new UnsupportedModelException(dir + " has no tensor " + name
                                + " and config.json does not drop its block");
                    }
                    return manager.zeros(new Shape(1), type).broadcast(new Shape(shape)); // never read: block skipped
                });
                return new Loaded(new LlamaModel(config, options, manager, weights), mask);
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
        }
    }

    private static boolean[] dropList(JsonNode config, String key, int layers) {
        boolean[] out = new boolean[layers];
        JsonNode list = config.path(key);
        if (list.isMissingNode() || list.isNull()) {
            return out;
        }
        if (!list.isArray()) {
            throw new UnsupportedModelException("config.json: '" + key + "' must be a list of layer indices");
        }
        for (JsonNode n : list.values()) {
            if (!n.isIntegralNumber() || n.asInt() < 0 || n.asInt() >= layers) {
                throw new UnsupportedModelException("config.json: '" + key + "' holds " + n + ", not a layer index < "
                        + layers);
            }
            out[n.asInt()] = true;
        }
        return out;
    }

    private static boolean dropped(String name, boolean[] dropAttn, boolean[] dropMlp) {
        Matcher m = LAYER_TENSOR.matcher(name);
        if (!m.matches()) {
            return false;
        }
        int layer = Integer.parseInt(m.group(1));
        BlockType type = PrunedCheckpoint.blockOf(m.group(2));
        return type == BlockType.ATTENTION ? dropAttn[layer] : type == BlockType.MLP && dropMlp[layer];
    }

    /** The stored tensor widened to FP32 in row blocks of at most 1 GiB, then cast to the compute type. */
    private static NDArray read(Tensor t, long[] shape, NDManager manager, DataType type) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new UnsupportedModelException("tensor " + t.name() + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        long rows = shape.length == 0 ? 1 : shape[0];
        long rowElements = rows == 0 ? 0 : t.numel() / rows;
        long rowsPerBlock = Math.max(1, MAX_BLOCK_BYTES / Math.max(1, rowElements * 4));
        NDList parts = new NDList();
        try {
            for (long r = 0; r < rows; r += rowsPerBlock) {
                long n = Math.min(rowsPerBlock, rows - r);
                long[] partShape = shape.clone();
                if (partShape.length > 0) {
                    partShape[0] = n;
                }
                parts.add(block(t, r * rowElements, n * rowElements, new Shape(partShape), manager));
            }
            NDArray fp32 = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
            NDArray out = type == DataType.FLOAT32 ? fp32 : fp32.toType(type, false);
            if (parts.size() == 1 && out == fp32) {
                parts.clear(); // the single part is the result; do not close it
            }
            return out;
        } finally {
            parts.close();
        }
    }

    private static NDArray block(Tensor t, long from, long count, Shape shape, NDManager manager) {
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.toIntExact(count * 4)).order(ByteOrder.nativeOrder());
        FloatBuffer floats = buf.asFloatBuffer();
        float[] chunk = new float[(int) Math.min(1 << 16, Math.max(1, count))];
        for (long i = 0; i < count; i += chunk.length) {
            int len = (int) Math.min(chunk.length, count - i);
            t.readFloats(from + i, chunk, 0, len);
            floats.put(chunk, 0, len);
        }
        buf.rewind();
        return manager.create(buf, shape, DataType.FLOAT32);
    }
}
