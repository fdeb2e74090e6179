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
 * else as PyTorch checkpoints ({@code pytorch_model.bin}, or shards listed by {@code pytorch_model.bin.index.json},
 * in torch.save's zip format, read without running pickle code: {@link TorchZipFile}), and the auxiliary files
 * (tokenizer, generation config, chat template, ...). {@link #open(Path, Path)} applies a PEFT LoRA adapter on top.
 *
 * <p>As in transformers, a single {@code model.safetensors} wins over an index when both exist, and safetensors
 * win over {@code .bin} files (mergekit's order too).
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
    public static final String BIN_FILE = "pytorch_model.bin";
    public static final String BIN_INDEX_FILE = "pytorch_model.bin.index.json";

    private final Path dir;
    private final JsonNode config;
    private final List<WeightFile> files;
    private final Map<String, WeightFile> fileOf;
    private final boolean sharded;
    private final LoraAdapter lora;

    private HfModelDir(Path dir, JsonNode config, List<WeightFile> files, Map<String, WeightFile> fileOf,
                       boolean sharded, LoraAdapter lora) {
        this.dir = dir;
        this.sharded = sharded;
        this.config = config;
        this.files = files;
        this.fileOf = fileOf;
        this.lora = lora;
    }

    /**
     * Opens a model directory and validates its weights (every safetensors header, and that every
     * tensor of the index is in the shard it names).
     *
     * @throws IllegalArgumentException if there are no safetensors weights or the index is inconsistent
     * @throws SafetensorsFormatException if a weight file is corrupt
     */
    public static HfModelDir open(Path dir) {
        return open(dir, null);
    }

    /**
     * Opens a model directory with a PEFT LoRA adapter applied (mergekit's {@code model+lora}): the adapted weights
     * read as {@code W + scale * B @ A} in FP32 (see {@link LoraAdapter}), everything else as stored.
     *
     * @param adapterDir a PEFT adapter directory, or null for the model alone
     * @throws IllegalArgumentException if the adapter is malformed or does not fit the model
     */
    public static HfModelDir open(Path dir, Path adapterDir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("not a model directory: " + dir);
        }
        Path configFile = dir.resolve(CONFIG_FILE);
        JsonNode config = Files.exists(configFile) ? Json.read(configFile) : Json.object();
        Path single = dir.resolve(ShardedCheckpointWriter.SINGLE_FILE);
        Path index = dir.resolve(ShardedCheckpointWriter.INDEX_FILE);
        Path bin = dir.resolve(BIN_FILE);
        Path binIndex = dir.resolve(BIN_INDEX_FILE);
        List<WeightFile> files = new ArrayList<>();
        Map<String, WeightFile> fileOf = new LinkedHashMap<>();
        boolean sharded;
        LoraAdapter lora = null;
        try {
            if (Files.exists(single) || (!Files.exists(index) && Files.exists(bin))) {
                sharded = false;
                WeightFile f = Files.exists(single) ? SafetensorsFile.open(single) : TorchZipFile.open(bin);
                files.add(f);
                for (TensorInfo t : f.tensorInfos()) {
                    fileOf.put(t.name(), f);
                }
            } else if (Files.exists(index) || Files.exists(binIndex)) {
                sharded = true;
                openShards(dir, Files.exists(index) ? index : binIndex, files, fileOf);
            } else {
                throw new IllegalArgumentException("no " + ShardedCheckpointWriter.SINGLE_FILE + ", "
                        + ShardedCheckpointWriter.INDEX_FILE + ", " + BIN_FILE + " or " + BIN_INDEX_FILE + " in " + dir);
            }
            if (adapterDir != null) {
                Map<String, TensorInfo> infos = new LinkedHashMap<>();
                fileOf.forEach((name, f) -> infos.put(name, f.info(name)));
                lora = LoraAdapter.open(adapterDir, infos);
            }
        } catch (RuntimeException e) {
            files.forEach(WeightFile::close);
            throw e;
        }
        return new HfModelDir(dir, config, Collections.unmodifiableList(files), Collections.unmodifiableMap(fileOf),
                sharded, lora);
    }

    private static void openShards(Path dir, Path index, List<WeightFile> files, Map<String, WeightFile> fileOf) {
        JsonNode weightMap = Json.read(index).get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new IllegalArgumentException(index + ": no \"weight_map\" object");
        }
        Map<String, WeightFile> byShard = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            String shardName = e.getValue().isString() ? e.getValue().asString() : null;
            if (shardName == null || shardName.contains("/") || shardName.contains("\\") || shardName.startsWith(".")) {
                throw new IllegalArgumentException(index + ": tensor '" + e.getKey() + "' maps to invalid shard "
                        + e.getValue());
            }
            WeightFile shard = byShard.get(shardName);
            if (shard == null) {
                Path shardPath = dir.resolve(shardName);
                if (!Files.exists(shardPath)) {
                    throw new IllegalArgumentException(index + ": shard " + shardName + " of tensor '"
                            + e.getKey() + "' does not exist");
                }
                shard = shardName.endsWith(".safetensors") ? SafetensorsFile.open(shardPath)
                        : TorchZipFile.open(shardPath);
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

    /** The opened safetensors weight files (one, or one per shard; none for a {@code .bin} model). */
    public List<SafetensorsFile> weightFiles() {
        return files.stream().filter(f -> f instanceof SafetensorsFile).map(f -> (SafetensorsFile) f).toList();
    }

    /** The applied LoRA adapter's directory, or null. */
    public Path adapterDir() {
        return lora == null ? null : lora.dir();
    }

    /** The tensors the applied LoRA adapter changes (empty without one). */
    public List<String> adaptedTensors() {
        return lora == null ? List.of() : lora.adaptedTensors();
    }

    /** All tensor names (file offset order for one file, index order for shards). */
    public Set<String> tensorNames() {
        return fileOf.keySet();
    }

    public boolean hasTensor(String name) {
        return fileOf.containsKey(name);
    }

    /**
     * A memory-mapped view of a tensor (with the LoRA delta applied on read, as F32, where an adapter changes it);
     * {@link IllegalArgumentException} naming the directory if absent.
     */
    public Tensor tensor(String name) {
        Tensor t = file(name).tensor(name);
        return lora == null ? t : lora.apply(t);
    }

    /**
     * The header entry of a tensor (offsets relative to its file's data buffer or storage); a LoRA-adapted tensor is
     * F32 with offsets {@code [0, 4 numel)}.
     */
    public TensorInfo info(String name) {
        TensorInfo info = file(name).info(name);
        if (lora != null && lora.adapts(name)) {
            return new TensorInfo(name, DType.F32, info.shape(), 0, 4 * info.numel());
        }
        return info;
    }

    /** The file holding a tensor. */
    public Path fileOf(String name) {
        return file(name).path();
    }

    private WeightFile file(String name) {
        WeightFile f = fileOf.get(name);
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
        for (Map.Entry<String, WeightFile> e : fileOf.entrySet()) {
            n += e.getValue().info(e.getKey()).numel();
        }
        return n;
    }

    /** The dtype holding the most parameters (ties: the earlier in {@link DType} order). */
    public DType dominantDtype() {
        Map<DType, Long> counts = new EnumMap<>(DType.class);
        for (String name : fileOf.keySet()) {
            TensorInfo t = info(name);
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
        List<AutoCloseable> all = new ArrayList<>(files);
        if (lora != null) {
            all.add(lora);
        }
        for (AutoCloseable f : all) {
            try {
                f.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
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
        return "HfModelDir[" + dir + ", " + fileOf.size() + " tensors in " + files.size() + " file(s)"
                + (lora == null ? "" : " + LoRA " + lora.dir()) + "]";
    }
}
