package dev.amalgam.modelio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A memory-mapped safetensors file. {@link #open} reads and validates the header (every rule of
 * the format) without touching the data; {@link #tensor} maps the tensor's byte range on first use.
 *
 * <p>Mapping is per tensor: each tensor gets its own read-only mapping, split into pieces of
 * 1 GiB for tensors over that size, so no file or tensor size limit applies and an element never
 * straddles two buffers. Mapped memory is released by the garbage collector (Java 17 cannot unmap
 * explicitly); {@link #close} closes the channel and refuses new {@link #tensor} calls, while
 * tensors obtained earlier stay readable.
 *
 * <pre>{@code
 * try (SafetensorsFile f = SafetensorsFile.open(Path.of("model.safetensors"))) {
 *     float[] norm = f.tensor("model.norm.weight").toFloatArray();
 * }
 * }</pre>
 */
public final class SafetensorsFile implements WeightFile {

    /** Largest header the format allows (same limit as the reference Rust implementation). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    static final long DEFAULT_PIECE_BYTES = 1L << 30;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final long pieceBytes;
    private final Map<String, String> metadata;
    private final List<TensorInfo> infos;
    private final Map<String, TensorInfo> byName;
    private final Set<String> names;
    private final Map<String, Tensor> mapped = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, long pieceBytes,
                            Map<String, String> metadata, List<TensorInfo> infos) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.pieceBytes = pieceBytes;
        this.metadata = metadata;
        this.infos = infos;
        Map<String, TensorInfo> m = new LinkedHashMap<>();
        for (TensorInfo t : infos) {
            m.put(t.name(), t);
        }
        this.byName = Collections.unmodifiableMap(m);
        this.names = Collections.unmodifiableSet(new LinkedHashSet<>(m.keySet()));
    }

    /**
     * Opens and validates a safetensors file.
     *
     * @throws SafetensorsFormatException if the file breaks a rule of the format
     * @throws UncheckedIOException if it cannot be read
     */
    public static SafetensorsFile open(Path path) {
        return open(path, DEFAULT_PIECE_BYTES);
    }

    /** As {@link #open(Path)} with a custom mapping piece size (a power of two >= 8; tests use tiny ones). */
    static SafetensorsFile open(Path path, long pieceBytes) {
        if (Long.bitCount(pieceBytes) != 1 || pieceBytes < 8 || pieceBytes > DEFAULT_PIECE_BYTES) {
            throw new IllegalArgumentException("piece size must be a power of two in [8, 2^30]: " + pieceBytes);
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open safetensors file " + path, e);
        }
        try {
            SafetensorsHeader header = SafetensorsHeader.read(path, ch);
            return new SafetensorsFile(path, ch, header.dataStart(), pieceBytes, header.metadata(), header.tensors());
        } catch (RuntimeException e) {
            closeQuietly(ch, e);
            throw e;
        }
    }

    private static void closeQuietly(FileChannel ch, Throwable primary) {
        try {
            ch.close();
        } catch (IOException suppressed) {
            primary.addSuppressed(suppressed);
        }
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** All tensors, ordered by their offset in the data buffer. */
    public List<TensorInfo> tensorInfos() {
        return infos;
    }

    /** Tensor names, in offset order. */
    public Set<String> names() {
        return names;
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** Header entry of a tensor; throws {@link IllegalArgumentException} if absent. */
    public TensorInfo info(String name) {
        TensorInfo info = byName.get(name);
        if (info == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + path);
        }
        return info;
    }

    /** Total bytes of the data buffer. */
    public long dataBytes() {
        return infos.isEmpty() ? 0 : infos.get(infos.size() - 1).end();
    }

    /**
     * A read-only view of a tensor, mapped on first use and cached.
     *
     * @throws IllegalArgumentException if there is no such tensor
     * @throws IllegalStateException after {@link #close}
     */
    public Tensor tensor(String name) {
        TensorInfo info = info(name);
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
        return mapped.computeIfAbsent(name, n -> map(info));
    }

    private Tensor map(TensorInfo info) {
        return map(channel, dataStart, info, pieceBytes, path);
    }

    /**
     * Maps one tensor's bytes, which start at {@code start + info.begin()} in {@code channel}, as read-only
     * little-endian pieces of {@code pieceBytes} (a power of two, a whole number of elements); shared with
     * {@link TorchZipFile}, whose storages are stored uncompressed in the zip.
     */
    static Tensor map(FileChannel channel, long start, TensorInfo info, long pieceBytes, Path path) {
        int shift = Long.numberOfTrailingZeros(pieceBytes / info.dtype().size());
        long bytes = info.byteSize();
        int count = (int) Math.max(1, (bytes + pieceBytes - 1) / pieceBytes);
        ByteBuffer[] pieces = new ByteBuffer[count];
        try {
            for (int i = 0; i < count; i++) {
                long from = (long) i * pieceBytes;
                long len = Math.min(pieceBytes, bytes - from);
                pieces[i] = (len == 0 ? ByteBuffer.allocate(0).asReadOnlyBuffer()
                        : channel.map(FileChannel.MapMode.READ_ONLY, start + info.begin() + from, len))
                        .order(ByteOrder.LITTLE_ENDIAN);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map tensor '" + info.name() + "' of " + path, e);
        }
        return new MappedTensor(info, pieces, shift);
    }

    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + path, e);
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + infos.size() + " tensors]";
    }

    /** Sorted copy helper for the header reader. */
    static List<TensorInfo> sortedByOffset(List<TensorInfo> infos) {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        return Collections.unmodifiableList(sorted);
    }
}
