package dev.amalgam.modelio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;

/**
 * A Hugging Face model directory: {@code config.json}, the weights as one {@code model.safetensors}
 * or as shards listed by {@code model.safetensors.index.json} (each shard opened once, memory-mapped),
 * and the auxiliary files (tokenizer, generation config, chat template, ...).
 *
 * <p>As in transformers, a single {@code model.safetensors} wins over an index when both exist.
 * A missing {@code config.json} gives an empty {@link #config()} object rather than an error, so
 * weight-only directories can be opened; callers that need a field check for it. Reads are safe
 * from several threads at once (tensors are mapped once and cached per file).
 *
 * <pre>{@code
 * try (HfModelDir model = HfModelDir.open(Path.of("models/qwen2.5-0.5b"))) {
 *     int layers = model.config().get("num_hidden_layers").asInt();
 *     Tensor q = model.tensor("model.layers.0.self_attn.q_proj.weight");   // [heads*hd, hidden]
 * }
 * }</pre>
 */
public final class HfModelDir implements AutoCloseable {

    public static final String CONFIG_FILE = "config.json";

    private final Path dir;
    private final JsonNode config;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> fileOf;
    private final boolean sharded;

    private HfModelDir(Path dir, JsonNode config, List<SafetensorsFile> files, Map<String, SafetensorsFile> fileOf,
                       boolean sharded) {
        this.dir = dir;
        this.sharded = sharded;
        this.config = config;
        this.files = files;
        this.fileOf = fileOf;
    }

    /**
     * Opens a model directory and validates its weights (every safetensors header, and that every
     * tensor of the index is in the shard it names).
     *
     * @throws IllegalArgumentException if there are no safetensors weights or the index is inconsistent
     * @throws SafetensorsFormatException if a weight file is corrupt
     */
    public static HfModelDir open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("not a model directory: " + dir);
        }
        Path configFile = dir.resolve(CONFIG_FILE);
        JsonNode config = Files.exists(configFile) ? Json.read(configFile) : Json.object();
        Path single = dir.resolve(ShardedCheckpointWriter.SINGLE_FILE);
        Path index = dir.resolve(ShardedCheckpointWriter.INDEX_FILE);
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
        boolean sharded = !Files.exists(single);
        try {
            if (!sharded) {
                SafetensorsFile f = SafetensorsFile.open(single);
                files.add(f);
                for (TensorInfo t : f.tensorInfos()) {
                    fileOf.put(t.name(), f);
                }
            } else if (Files.exists(index)) {
                openShards(dir, index, files, fileOf);
            } else {
                throw new IllegalArgumentException("no " + ShardedCheckpointWriter.SINGLE_FILE + " or "
                        + ShardedCheckpointWriter.INDEX_FILE + " in " + dir + " (only safetensors weights are supported)");
            }
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
        return new HfModelDir(dir, config, Collections.unmodifiableList(files), Collections.unmodifiableMap(fileOf),
                sharded);
    }

    private static void openShards(Path dir, Path index, List<SafetensorsFile> files, Map<String, SafetensorsFile> fileOf) {
        JsonNode weightMap = Json.read(index).get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new IllegalArgumentException(index + ": no \"weight_map\" object");
        }
        Map<String, SafetensorsFile> byShard = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            String shardName = e.getValue().isString() ? e.getValue().asString() : null;
            if (shardName == null || shardName.contains("/") || shardName.contains("\\") || shardName.startsWith(".")) {
                throw new IllegalArgumentException(index + ": tensor '" + e.getKey() + "' maps to invalid shard "
                        + e.getValue());
            }
            SafetensorsFile shard = byShard.get(shardName);
            if (shard == null) {
                Path shardPath = dir.resolve(shardName);
                if (!Files.exists(shardPath)) {
                    throw new IllegalArgumentException(index + ": shard " + shardName + " of tensor '"
                            + e.getKey() + "' does not exist");
                }
                shard = SafetensorsFile.open(shardPath);
                byShard.put(shardName, shard);
                files.add(shard);
            }
            if (!shard.contains(e.getKey())) {
                throw new IllegalArgumentException(index + ": tensor '" + e.getKey() + "' is not in its shard "
                        + shardName);
            }
            fileOf.put(e.getKey(), shard);
        }
    }

    /** The directory. */
    public Path dir() {
        return dir;
    }

    /** The parsed {@code config.json} (an empty object when the file is absent). */
    public JsonNode config() {
        return config;
    }

    /** True when the weights are split over several files listed by an index. */
    public boolean isSharded() {
        return sharded;
    }

    /** The opened weight files (one, or one per shard). */
    public List<SafetensorsFile> weightFiles() {
        return files;
    }

    /** All tensor names (file offset order for one file, index order for shards). */
    public Set<String> tensorNames() {
        return fileOf.keySet();
    }

    public boolean hasTensor(String name) {
        return fileOf.containsKey(name);
    }

    /** A memory-mapped view of a tensor; {@link IllegalArgumentException} naming the directory if absent. */
    public Tensor tensor(String name) {
        return file(name).tensor(name);
    }

    /** The header entry of a tensor (offsets relative to its file's data buffer). */
    public TensorInfo info(String name) {
        return file(name).info(name);
    }

    /** The file holding a tensor. */
    public Path fileOf(String name) {
        return file(name).path();
    }

    private SafetensorsFile file(String name) {
        SafetensorsFile f = fileOf.get(name);
        if (f == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in model " + dir);
        }
        return f;
    }

    /**
     * Every regular, non-hidden file of the directory that is neither weights nor {@code config.json}:
     * tokenizer.json, tokenizer_config.json, special_tokens_map.json, generation_config.json,
     * tokenizer.model, vocab/merges files, chat_template.jinja, README.md, ... sorted by name.
     */
    public List<Path> auxiliaryFiles() {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> isAuxiliary(p.getFileName().toString()))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    static boolean isAuxiliary(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.startsWith(".") || n.equals(CONFIG_FILE) || n.endsWith(".tmp")) {
            return false;
        }
        for (String weights : List.of(".safetensors", ".safetensors.index.json", ".bin", ".bin.index.json",
                ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".msgpack", ".onnx")) {
            if (n.endsWith(weights)) {
                return false;
            }
        }
        return true;
    }

    /** Copies every auxiliary file of {@code from} into {@code toDir} (created if needed), replacing existing ones. */
    public static void copyAuxiliaryFiles(HfModelDir from, Path toDir) {
        try {
            Files.createDirectories(toDir);
            for (Path p : from.auxiliaryFiles()) {
                Files.copy(p, toDir.resolve(p.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy auxiliary files from " + from.dir() + " to " + toDir, e);
        }
    }

    /** Total number of elements over all tensors. */
    public long parameterCount() {
        long n = 0;
        for (Map.Entry<String, SafetensorsFile> e : fileOf.entrySet()) {
            n += e.getValue().info(e.getKey()).numel();
        }
        return n;
    }

    /** The dtype holding the most parameters (ties: the earlier in {@link DType} order). */
    public DType dominantDtype() {
        Map<DType, Long> counts = new EnumMap<>(DType.class);
        for (Map.Entry<String, SafetensorsFile> e : fileOf.entrySet()) {
            TensorInfo t = e.getValue().info(e.getKey());
            counts.merge(t.dtype(), t.numel(), Long::sum);
        }
        return counts.entrySet().stream()
                .reduce((a, b) -> b.getValue() > a.getValue() ? b : a)
                .map(Map.Entry::getKey)
                .orElseThrow(() -> new IllegalStateException("model " + dir + " has no tensors"));
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "HfModelDir[" + dir + ", " + fileOf.size() + " tensors in " + files.size() + " file(s)]";
    }
}
