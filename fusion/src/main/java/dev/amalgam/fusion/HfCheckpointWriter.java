package dev.amalgam.fusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.train.TensorFiles;
import dev.amalgam.fusion.train.TrainableModel;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.node.ObjectNode;

/**
 * Saves a trained model as a Hugging Face checkpoint: every weight of the source checkpoint (LoRA adapters merged
 * in) in the requested dtype, sharded at 5 GB with an index when needed, config.json with {@code torch_dtype}
 * updated, and the tokenizer and generation files copied. Weights stream out in row blocks.
 */
public final class HfCheckpointWriter {

    static final long MAX_SHARD_BYTES = 5L << 30;

    private HfCheckpointWriter() {
    }

    /** Maps a spec's {@code outputDtype} to the stored dtype. */
    public static DType dtype(String outputDtype) {
        return switch (outputDtype) {
            case "bf16" -> DType.BF16;
            case "fp16" -> DType.F16;
            case "fp32" -> DType.F32;
            default -> throw new IllegalArgumentException("unknown output dtype " + outputDtype);
        };
    }

    public static void write(TrainableModel model, Path sourceDir, Path outDir, DType dtype) {
        try (HfModelDir source = HfModelDir.open(sourceDir); NDManager scope = model.base().manager().newSubManager()) {
            Files.createDirectories(outDir);
            Map<String, NDArray> weights = model.base().weights().namedParameters();
            List<String> names = new ArrayList<>(weights.keySet());
            Map<String, long[]> shapes = new LinkedHashMap<>();
            weights.forEach((n, a) -> shapes.put(n, a.getShape().getShape()));
            TensorFiles.write(outDir, names, shapes, dtype, MAX_SHARD_BYTES, n -> model.exportWeight(n, scope), true);
            ObjectNode config = source.config().deepCopy() instanceof ObjectNode o ? o : Json.object();
            config.put("torch_dtype", switch (dtype) {
                case BF16 -> "bfloat16";
                case F16 -> "float16";
                default -> "float32";
            });
            Json.write(outDir.resolve("config.json"), config);
            HfModelDir.copyAuxiliaryFiles(source, outDir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + outDir, e);
        }
    }
}
