package dev.amalgam.modelio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes a Hugging Face checkpoint: tensors are assigned, in the given order, to shards of at most
 * {@code maxShardBytes} of tensor data ({@code model-00001-of-0000N.safetensors}, or a single
 * {@code model.safetensors} when everything fits in one), each with {@code __metadata__
 * {"format":"pt"}}. Data arrives in any order from any thread; a shard is closed and renamed into
 * place as soon as its last tensor is complete, so memory and open files stay bounded.
 * {@link #close} writes {@code model.safetensors.index.json} when sharded, and fails if a tensor
 * is missing, in which case no checkpoint file is left behind (already finished shards are deleted).
 *
 * <p>A tensor bigger than {@code maxShardBytes} gets a shard of its own (as in transformers). A
 * successful close removes checkpoint files of an earlier save in the same directory (other shard
 * names, a stale index), as transformers' {@code save_pretrained} does.
 *
 * <pre>{@code
 * try (ShardedCheckpointWriter w = ShardedCheckpointWriter.create(outDir, specs, 5L << 30)) {
 *     specs.parallelStream().forEach(s -> w.write(s.name(), merged(s)));
 * }
 * }</pre>
 */
public final class ShardedCheckpointWriter implements AutoCloseable {

    /** The file name of an unsharded checkpoint. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The index of a sharded checkpoint. */
    public static final String INDEX_FILE = "model.safetensors.index.json";
    private static final Map<String, String> SHARD_METADATA = Map.of("format", "pt");
    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");

    private final Path dir;
    private final List<Shard> shards;
    private final Map<String, Shard> shardOf;
    private final long totalSize;
    private volatile boolean closed;

    /** One output file, its writer and the count of tensors still to complete. */
    private static final class Shard {
        final String fileName;
        final List<TensorSpec> specs;
        final SafetensorsWriter writer;
        final AtomicInteger pending;
        volatile boolean finished;

        Shard(String fileName, List<TensorSpec> specs, SafetensorsWriter writer) {
            this.fileName = fileName;
            this.specs = specs;
            this.writer = writer;
            this.pending = new AtomicInteger((int) specs.stream().filter(s -> s.byteSize() > 0).count());
        }
    }

    private ShardedCheckpointWriter(Path dir, List<Shard> shards, long totalSize) {
        this.dir = dir;
        this.shards = shards;
        this.totalSize = totalSize;
        this.shardOf = new HashMap<>();
        for (Shard s : shards) {
            for (TensorSpec t : s.specs) {
                shardOf.put(t.name(), s);
            }
        }
    }

    /**
     * Plans the shards and creates their files (headers written, data to follow).
     *
     * @param dir           output directory (created if absent)
     * @param tensors       all tensors of the checkpoint, in file order; names unique
     * @param maxShardBytes maximum tensor bytes per shard (e.g. {@code 5L << 30} as transformers' "5GB")
     */
    public static ShardedCheckpointWriter create(Path dir, List<TensorSpec> tensors, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive: " + maxShardBytes);
        }
        List<List<TensorSpec>> plan = plan(tensors, maxShardBytes);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        long total = 0;
        for (TensorSpec t : tensors) {
            total += t.byteSize();
        }
        List<Shard> shards = new ArrayList<>();
        try {
            for (int i = 0; i < plan.size(); i++) {
                String name = plan.size() == 1 ? SINGLE_FILE : shardFileName(i + 1, plan.size());
                SafetensorsWriter w = SafetensorsWriter.create(dir.resolve(name), plan.get(i), SHARD_METADATA);
                shards.add(new Shard(name, plan.get(i), w));
            }
        } catch (RuntimeException e) {
            shards.forEach(s -> s.writer.abort());
            throw e;
        }
        ShardedCheckpointWriter writer = new ShardedCheckpointWriter(dir, shards, total);
        if (writer.shardOf.size() != tensors.size()) {
            writer.shards.forEach(s -> s.writer.abort());
            throw new IllegalArgumentException("duplicate tensor names in the specs for " + dir);
        }
        // shards holding only zero-size tensors are complete from the start
        for (Shard s : shards) {
            if (s.pending.get() == 0) {
                writer.finish(s);
            }
        }
        return writer;
    }

    /** {@code model-00001-of-00003.safetensors} (1-based, five digits as transformers writes them). */
    public static String shardFileName(int index, int count) {
        return String.format("model-%05d-of-%05d.safetensors", index, count);
    }

    /** Greedy in-order packing: a new shard starts when the next tensor would overflow the current one. */
    static List<List<TensorSpec>> plan(List<TensorSpec> tensors, long maxShardBytes) {
        List<List<TensorSpec>> plan = new ArrayList<>();
        List<TensorSpec> current = new ArrayList<>();
        long bytes = 0;
        for (TensorSpec t : tensors) {
            if (!current.isEmpty() && bytes + t.byteSize() > maxShardBytes) {
                plan.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(t);
            bytes += t.byteSize();
        }
        if (!current.isEmpty() || plan.isEmpty()) {
            plan.add(current);
        }
        return plan;
    }

    /** The output directory. */
    public Path dir() {
        return dir;
    }

    /** Number of shard files (1 means a single {@code model.safetensors}). */
    public int shardCount() {
        return shards.size();
    }

    /** Sum of all tensor byte sizes, the index's {@code total_size}. */
    public long totalSize() {
        return totalSize;
    }

    /** The file a tensor goes to. */
    public String shardFileOf(String name) {
        return shard(name).fileName;
    }

    /** Writes a whole tensor, narrowed to its dtype with round-to-nearest-even. */
    public void write(String name, float[] values) {
        Shard s = shard(name);
        TensorSpec spec = spec(s, name);
        if (values.length != spec.numel()) {
            throw new IllegalArgumentException("tensor '" + name + "' " + spec + " needs " + spec.numel()
                    + " values, got " + values.length);
        }
        completed(s, s.writer.writeTracked(name, 0, values, 0, values.length));
    }

    /** Writes part of a tensor (flat element range); see {@link SafetensorsWriter#writeFloats}. */
    public void writeFloats(String name, long fromIndex, float[] src, int srcOffset, int length) {
        Shard s = shard(name);
        completed(s, s.writer.writeTracked(name, fromIndex, src, srcOffset, length));
    }

    /** Writes a whole tensor's stored little-endian bytes. */
    public void writeRaw(String name, ByteBuffer littleEndianBytes) {
        Shard s = shard(name);
        TensorSpec spec = spec(s, name);
        if (littleEndianBytes.remaining() != spec.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "' " + spec + " is " + spec.byteSize()
                    + " bytes, got " + littleEndianBytes.remaining());
        }
        completed(s, s.writer.writeRawTracked(name, 0, littleEndianBytes));
    }

    /** Writes part of a tensor's stored bytes at {@code byteOffset} within the tensor. */
    public void writeRaw(String name, long byteOffset, ByteBuffer littleEndianBytes) {
        Shard s = shard(name);
        completed(s, s.writer.writeRawTracked(name, byteOffset, littleEndianBytes));
    }

    /** Copies a tensor's stored bytes unchanged (any size); see {@link SafetensorsWriter#copy}. */
    public void copy(String name, Tensor source) {
        Shard s = shard(name);
        completed(s, s.writer.copyTracked(name, source));
    }

    private void completed(Shard s, boolean tensorDone) {
        // The call that completes the shard's last tensor has returned from its write, as have all
        // earlier ones (each decrements only after writing), so the shard can be finished here.
        if (tensorDone && s.pending.decrementAndGet() == 0) {
            finish(s);
        }
    }

    private void finish(Shard s) {
        s.writer.close();
        s.finished = true;
    }

    private Shard shard(String name) {
        if (closed) {
            throw new IllegalStateException("checkpoint writer for " + dir + " is closed");
        }
        Shard s = shardOf.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in the specs of checkpoint " + dir);
        }
        return s;
    }

    private static TensorSpec spec(Shard s, String name) {
        for (TensorSpec t : s.specs) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new AssertionError(name);
    }

    /**
     * Writes the index (when sharded) after checking every tensor arrived.
     *
     * @throws IllegalStateException listing missing tensors; then no checkpoint file is left in {@code dir}
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<String> missing = new ArrayList<>();
        for (Shard s : shards) {
            if (!s.finished) {
                missing.addAll(s.writer.missing());
            }
        }
        if (!missing.isEmpty()) {
            discard();
            throw new IllegalStateException("checkpoint " + dir + " not written: " + missing.size()
                    + " tensor(s) missing data: " + SafetensorsWriter.abbreviate(missing));
        }
        if (shards.size() > 1) {
            Map<String, String> weightMap = new TreeMap<>();
            for (Shard s : shards) {
                for (TensorSpec t : s.specs) {
                    weightMap.put(t.name(), s.fileName);
                }
            }
            Map<String, Object> index = new LinkedHashMap<>();
            index.put("metadata", Map.of("total_size", totalSize));
            index.put("weight_map", weightMap);
            Json.write(dir.resolve(INDEX_FILE), index);
        }
        removeStaleCheckpointFiles();
    }

    /**
     * Like transformers' save_pretrained: shard files or an index left by an earlier checkpoint in
     * the same directory would shadow or mix with this one, so they are removed.
     */
    private void removeStaleCheckpointFiles() {
        Set<String> ours = new HashSet<>();
        shards.forEach(s -> ours.add(s.fileName));
        if (shards.size() > 1) {
            ours.add(INDEX_FILE);
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String n = p.getFileName().toString();
                boolean checkpointFile = n.equals(INDEX_FILE) || n.equals(SINGLE_FILE) || SHARD_NAME.matcher(n).matches();
                if (checkpointFile && !ours.contains(n)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean stale checkpoint files in " + dir, e);
        }
    }

    /** Abandons the checkpoint: deletes finished shards and temporary files. */
    public void abort() {
        closed = true;
        discard();
    }

    private void discard() {
        for (Shard s : shards) {
            s.writer.abort();
            if (!s.finished) {
                continue;
            }
            try {
                Files.deleteIfExists(dir.resolve(s.fileName));
            } catch (IOException ignored) {
                // best effort; the caller sees the primary failure
            }
        }
    }
}
