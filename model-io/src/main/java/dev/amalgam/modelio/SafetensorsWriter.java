package dev.amalgam.modelio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Streams one safetensors file. The header is written up front from the specs (tensors laid out
 * in the given order, header padded with spaces to a multiple of 8 so the data starts 8-aligned);
 * tensor data then arrives in any order, from any number of threads, through positional writes.
 * Everything goes to {@code file + ".tmp"}, renamed into place by a successful {@link #close};
 * {@code close} fails, and deletes the temporary file, if some tensor was not fully written
 * (zero-size tensors need no write). Completion is counted in bytes, so writing the same range
 * twice is only detected once the count exceeds the tensor's size.
 *
 * <pre>{@code
 * try (SafetensorsWriter w = SafetensorsWriter.create(out, List.of(
 *         new TensorSpec("w", DType.BF16, new long[] {2, 3})), Map.of("format", "pt"))) {
 *     w.write("w", new float[] {1, 2, 3, 4, 5, 6});   // rounded to BF16, ties to even
 * }
 * }</pre>
 */
public final class SafetensorsWriter implements AutoCloseable {

    /** Bytes converted per positional write: the per-thread direct buffer is 1 MiB. */
    private static final int SCRATCH_BYTES = 1 << 20;
    private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(SCRATCH_BYTES).order(ByteOrder.LITTLE_ENDIAN));

    private final Path file;
    private final Path tmp;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Slot> slots;
    private final long expectedLength;
    private volatile boolean closed;

    /** A tensor's place in the file and how many of its bytes have arrived. */
    private record Slot(TensorSpec spec, long begin, long bytes, AtomicLong written) {
    }

    private SafetensorsWriter(Path file, Path tmp, FileChannel channel, long dataStart,
                              Map<String, Slot> slots, long dataBytes) {
        this.file = file;
        this.tmp = tmp;
        this.channel = channel;
        this.dataStart = dataStart;
        this.slots = slots;
        this.expectedLength = dataStart + dataBytes;
    }

    /**
     * Creates {@code file + ".tmp"} and writes the header.
     *
     * @param tensors  the tensors, in file order; names must be unique
     * @param metadata the {@code __metadata__} map (may be empty or null; omitted when empty)
     */
    public static SafetensorsWriter create(Path file, List<TensorSpec> tensors, Map<String, String> metadata) {
        Map<String, Slot> slots = new LinkedHashMap<>();
        ObjectNode header = Json.object();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (TensorSpec spec : tensors) {
            if (spec.name().equals("__metadata__")) {
                throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
            }
            long bytes = spec.byteSize();
            if (slots.put(spec.name(), new Slot(spec, offset, bytes, new AtomicLong())) != null) {
                throw new IllegalArgumentException("duplicate tensor name '" + spec.name() + "' for " + file);
            }
            ObjectNode entry = header.putObject(spec.name());
            entry.put("dtype", spec.dtype().safetensorsName());
            ArrayNode shape = entry.putArray("shape");
            for (long d : spec.shape()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = Json.toCompactString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        FileChannel ch = null;
        try {
            ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
            writeFully(ch, head, 0);
        } catch (IOException e) {
            closeAndDelete(ch, tmp);
            throw new UncheckedIOException("cannot create " + tmp, e);
        }
        return new SafetensorsWriter(file, tmp, ch, 8L + padded, slots, offset);
    }

    /** The final path (the data goes to {@code path() + ".tmp"} until {@link #close}). */
    public Path path() {
        return file;
    }

    /** Writes a whole tensor, narrowing to its dtype with round-to-nearest-even. */
    public void write(String name, float[] values) {
        Slot s = slot(name);
        if (values.length != s.spec().numel()) {
            throw new IllegalArgumentException("tensor '" + name + "' " + s.spec() + " needs " + s.spec().numel()
                    + " values, got " + values.length);
        }
        writeTracked(name, 0, values, 0, values.length);
    }

    /**
     * Writes {@code length} values at flat element {@code fromIndex} of a tensor, for tensors streamed
     * in chunks (or too big for one array); the tensor counts as written once all its elements arrived.
     */
    public void writeFloats(String name, long fromIndex, float[] src, int srcOffset, int length) {
        writeTracked(name, fromIndex, src, srcOffset, length);
    }

    /** Writes a whole tensor's stored bytes (little-endian, exactly its byte size), e.g. a copied tensor. */
    public void writeRaw(String name, ByteBuffer littleEndianBytes) {
        Slot s = slot(name);
        if (littleEndianBytes.remaining() != s.bytes()) {
            throw new IllegalArgumentException("tensor '" + name + "' " + s.spec() + " is " + s.bytes()
                    + " bytes, got " + littleEndianBytes.remaining());
        }
        writeRawTracked(name, 0, littleEndianBytes);
    }

    /** Writes part of a tensor's stored bytes at {@code byteOffset} within the tensor. */
    public void writeRaw(String name, long byteOffset, ByteBuffer littleEndianBytes) {
        writeRawTracked(name, byteOffset, littleEndianBytes);
    }

    /**
     * Copies a tensor's stored bytes unchanged (any size; no conversion), e.g. a tensor a merge or
     * pruning passes through. Dtype and element count must match the spec.
     */
    public void copy(String name, Tensor source) {
        copyTracked(name, source);
    }

    /** As {@link #copy}; returns true when this call completed the tensor. */
    boolean copyTracked(String name, Tensor source) {
        Slot s = slot(name);
        if (source.dtype() != s.spec().dtype() || source.numel() != s.spec().numel()) {
            throw new IllegalArgumentException("cannot copy " + source.name() + " " + source.dtype() + " with "
                    + source.numel() + " elements into " + s.spec());
        }
        ByteBuffer[] parts = source instanceof MappedTensor m ? m.rawPieces() : new ByteBuffer[] {source.rawBytes()};
        long offset = 0;
        boolean done = false;
        for (ByteBuffer part : parts) {
            int n = part.remaining();
            done |= writeRawTracked(name, offset, part);
            offset += n;
        }
        return done;
    }

    /** As {@link #writeFloats}; returns true when this call completed the tensor. */
    boolean writeTracked(String name, long fromIndex, float[] src, int srcOffset, int length) {
        Slot s = slot(name);
        DType t = s.spec().dtype();
        if (!t.isFloatingPoint()) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + t
                    + "; floats are only narrowed to floating dtypes, write integers with writeRaw");
        }
        long numel = s.spec().numel();
        if (fromIndex < 0 || length < 0 || fromIndex > numel - length) {
            throw new IndexOutOfBoundsException("range [" + fromIndex + ", " + (fromIndex + length)
                    + ") out of [0, " + numel + ") in tensor '" + name + "'");
        }
        if (srcOffset < 0 || srcOffset > src.length - length) {
            throw new IndexOutOfBoundsException("source range out of array of length " + src.length);
        }
        int size = t.size();
        ByteBuffer buf = SCRATCH.get();
        int chunk = SCRATCH_BYTES / size;
        for (int done = 0; done < length; ) {
            int n = Math.min(chunk, length - done);
            buf.clear();
            Narrowing.encode(t, src, srcOffset + done, n, buf);
            buf.position(0).limit(n * size);
            writeAt(s.begin() + (fromIndex + done) * size, buf);
            done += n;
        }
        return account(s, (long) length * size);
    }

    /** As {@link #writeRaw(String, long, ByteBuffer)}; returns true when this call completed the tensor. */
    boolean writeRawTracked(String name, long byteOffset, ByteBuffer littleEndianBytes) {
        Slot s = slot(name);
        int n = littleEndianBytes.remaining();
        if (byteOffset < 0 || byteOffset > s.bytes() - n) {
            throw new IndexOutOfBoundsException("bytes [" + byteOffset + ", " + (byteOffset + n) + ") out of [0, "
                    + s.bytes() + ") in tensor '" + name + "'");
        }
        writeAt(s.begin() + byteOffset, littleEndianBytes.duplicate());
        return account(s, n);
    }

    private boolean account(Slot s, long bytes) {
        long total = s.written().addAndGet(bytes);
        if (total > s.bytes()) {
            throw new IllegalStateException("tensor '" + s.spec().name() + "' written more than once ("
                    + total + " of " + s.bytes() + " bytes) in " + file);
        }
        // zero-size tensors are complete from the start, so no call "completes" them
        return bytes > 0 && total == s.bytes();
    }

    private void writeAt(long tensorBytePosition, ByteBuffer buf) {
        try {
            if (!buf.isDirect() && buf.remaining() > SCRATCH_BYTES) {
                // the JDK stages heap buffers through a temporary direct buffer of the same size: slice them
                for (int from = buf.position(); from < buf.limit(); from += SCRATCH_BYTES) {
                    int len = Math.min(SCRATCH_BYTES, buf.limit() - from);
                    writeFully(channel, buf.slice(from, len), dataStart + tensorBytePosition + from - buf.position());
                }
                return;
            }
            writeFully(channel, buf, dataStart + tensorBytePosition);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to " + tmp, e);
        }
    }

    private Slot slot(String name) {
        if (closed) {
            throw new IllegalStateException(file + " writer is closed");
        }
        Slot s = slots.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in the specs of " + file);
        }
        return s;
    }

    /** Names of the tensors not (fully) written yet, in file order. */
    public List<String> missing() {
        List<String> out = new ArrayList<>();
        for (Slot s : slots.values()) {
            if (s.written().get() != s.bytes()) {
                out.add(s.spec().name());
            }
        }
        return out;
    }

    /**
     * Renames the finished file into place.
     *
     * @throws IllegalStateException (after deleting the temporary file) if some tensor is missing
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<String> missing = missing();
        if (!missing.isEmpty()) {
            closeAndDelete(channel, tmp);
            throw new IllegalStateException(file + " not written: " + missing.size() + " tensor(s) missing data: "
                    + abbreviate(missing));
        }
        try {
            long length = channel.size();
            channel.close();
            if (length != expectedLength) {
                Files.deleteIfExists(tmp);
                throw new IllegalStateException(tmp + " is " + length + " bytes, expected " + expectedLength);
            }
            FileMoves.moveIntoPlace(tmp, file);
        } catch (IOException e) {
            closeAndDelete(channel, tmp);
            throw new UncheckedIOException("cannot finish " + file, e);
        }
    }

    /** Discards the file: closes and deletes the temporary file; later writes fail. */
    public void abort() {
        closed = true;
        closeAndDelete(channel, tmp);
    }

    static String abbreviate(List<String> names) {
        return names.size() <= 10 ? names.toString()
                : names.subList(0, 10) + " and " + (names.size() - 10) + " more";
    }

    private static void closeAndDelete(FileChannel ch, Path tmp) {
        try {
            if (ch != null) {
                ch.close();
            }
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // best effort: the original failure is what the caller needs to see
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            pos += ch.write(buf, pos);
        }
    }
}
