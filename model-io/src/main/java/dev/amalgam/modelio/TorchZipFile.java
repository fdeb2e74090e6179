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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A PyTorch checkpoint in {@code torch.save}'s zip format ({@code pytorch_model.bin} since torch 1.6), read without
 * running any pickle code: the zip's central directory is parsed here, {@code <archive>/data.pkl} is interpreted by
 * {@link TorchUnpickler} (an allowlist of what a state dict holds), and each tensor is a memory-mapped view of its
 * storage entry {@code <archive>/data/<key>}, which torch writes uncompressed ("stored"); nothing but the pickle
 * itself is read onto the heap. Tensors must be contiguous (row-major strides), as {@code state_dict()} tensors are.
 *
 * <p>Legacy (pre-1.6, non-zip) checkpoints, compressed storage entries and non-contiguous tensors are refused with
 * a message saying so.
 */
final class TorchZipFile implements WeightFile {

    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int LOCAL = 0x04034b50;
    private static final long MAX_PICKLE_BYTES = 1L << 30;

    /** One zip entry: where its data starts in the file, its sizes and compression method. */
    private record Entry(String name, int method, long compressedSize, long size, long localHeader) {
    }

    private final Path path;
    private final FileChannel channel;
    private final Map<String, TensorInfo> infos;
    private final Map<String, Long> dataStart; // tensor name -> absolute file offset of its first byte
    private final Map<String, Tensor> mapped = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private TorchZipFile(Path path, FileChannel channel, Map<String, TensorInfo> infos, Map<String, Long> dataStart) {
        this.path = path;
        this.channel = channel;
        this.infos = infos;
        this.dataStart = dataStart;
    }

    /**
     * Opens a checkpoint and checks every tensor against its storage (dtype, bounds, contiguity).
     *
     * @throws IllegalArgumentException naming the file and what is wrong
     */
    static TorchZipFile open(Path path) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + path, e);
        }
        try {
            Map<String, Entry> entries = centralDirectory(path, ch);
            String pkl = null;
            for (String n : entries.keySet()) {
                if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) {
                    pkl = n;
                }
            }
            if (pkl == null) {
                throw new IllegalArgumentException(path + ": no <archive>/data.pkl entry; not a torch.save zip checkpoint");
            }
            String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
            Entry order = entries.get(prefix + "byteorder");
            if (order != null) {
                ByteBuffer ob = ByteBuffer.allocate((int) Math.min(order.size(), 16));
                readFully(ch, ob, dataOffset(path, ch, order));
                String o = new String(ob.array(), java.nio.charset.StandardCharsets.US_ASCII).strip();
                if (order.method() != 0 || !o.equals("little")) {
                    throw new IllegalArgumentException(path + ": byte order '" + o + "'; only little-endian checkpoints"
                            + " are read");
                }
            }
            Entry pe = entries.get(pkl);
            if (pe.method() != 0) {
                throw new IllegalArgumentException(path + ": " + pkl + " is compressed (method " + pe.method()
                        + "); torch.save stores entries uncompressed");
            }
            if (pe.size() > MAX_PICKLE_BYTES) {
                throw new IllegalArgumentException(path + ": " + pkl + " is " + pe.size() + " bytes, too large for a state dict");
            }
            ByteBuffer pb = ByteBuffer.allocate((int) pe.size());
            readFully(ch, pb, dataOffset(path, ch, pe));
            Map<String, TorchUnpickler.TensorRef> refs = TorchUnpickler.stateDict(pb.array(), path + ": " + pkl);
            Map<String, TensorInfo> infos = new LinkedHashMap<>();
            Map<String, Long> starts = new LinkedHashMap<>();
            Map<String, Long> storageStart = new LinkedHashMap<>();
            for (Map.Entry<String, TorchUnpickler.TensorRef> e : refs.entrySet()) {
                String name = e.getKey();
                TorchUnpickler.TensorRef t = e.getValue();
                String entryName = prefix + "data/" + t.storage().key();
                Entry se = entries.get(entryName);
                String where = path + ": tensor '" + name + "'";
                if (se == null) {
                    throw new IllegalArgumentException(where + ": its storage " + entryName + " is not in the archive");
                }
                if (se.method() != 0 || se.compressedSize() != se.size()) {
                    throw new IllegalArgumentException(where + ": storage " + entryName
                            + " is compressed; only stored (uncompressed) entries, as torch.save writes, are read");
                }
                long[] shape = t.shape();
                if (!isContiguous(shape, t.stride())) {
                    throw new IllegalArgumentException(where + ": non-contiguous strides " + java.util.Arrays.toString(t.stride())
                            + " for shape " + java.util.Arrays.toString(shape) + " are not supported");
                }
                int size = t.storage().dtype().size();
                long begin = Math.multiplyExact(t.offset(), size);
                long end = Math.addExact(begin, Math.multiplyExact(Shapes.numel(shape), size));
                if (se.size() % size != 0 || end > se.size()) {
                    throw new IllegalArgumentException(where + ": elements [" + t.offset() + ", " + (end / size)
                            + ") lie beyond its storage of " + (se.size() / size) + " " + t.storage().dtype() + " elements");
                }
                Long base = storageStart.get(entryName);
                if (base == null) {
                    base = dataOffset(path, ch, se);
                    if (base + se.size() > ch.size()) {
                        throw new IllegalArgumentException(where + ": storage " + entryName + " is truncated");
                    }
                    storageStart.put(entryName, base);
                }
                infos.put(name, new TensorInfo(name, t.storage().dtype(), shape, begin, end));
                starts.put(name, base);
            }
            return new TorchZipFile(path, ch, Collections.unmodifiableMap(infos), starts);
        } catch (IOException e) {
            closeQuietly(ch, e);
            throw new UncheckedIOException("cannot read " + path, e);
        } catch (RuntimeException e) {
            closeQuietly(ch, e);
            throw e;
        }
    }

    private static boolean isContiguous(long[] shape, long[] stride) {
        if (shape.length != stride.length) {
            return false;
        }
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** The zip's entries by name, from the (ZIP64 when needed) end of central directory record. */
    private static Map<String, Entry> centralDirectory(Path path, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        int tail = (int) Math.min(fileSize, 22 + 65535 + 20);
        ByteBuffer end = ByteBuffer.allocate(tail).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, end, fileSize - tail);
        int eocd = -1;
        for (int i = tail - 22; i >= 0; i--) {
            if (end.getInt(i) == EOCD) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) {
            throw new IllegalArgumentException(path + " is not a zip archive (a legacy torch.save checkpoint, from"
                    + " torch < 1.6, is not supported; convert it to safetensors)");
        }
        long count = end.getShort(eocd + 10) & 0xffff;
        long dirSize = end.getInt(eocd + 12) & 0xffffffffL;
        long dirOffset = end.getInt(eocd + 16) & 0xffffffffL;
        if ((count == 0xffff || dirOffset == 0xffffffffL || dirSize == 0xffffffffL) && eocd >= 20
                && end.getInt(eocd - 20) == ZIP64_LOCATOR) {
            long z64 = end.getLong(eocd - 20 + 8);
            ByteBuffer z = ByteBuffer.allocate(56).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, z, z64);
            if (z.getInt(0) != ZIP64_EOCD) {
                throw new IllegalArgumentException(path + ": broken ZIP64 end of central directory");
            }
            count = z.getLong(32);
            dirSize = z.getLong(40);
            dirOffset = z.getLong(48);
        }
        if (dirOffset + dirSize > fileSize || dirSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(path + ": the zip central directory lies beyond the file");
        }
        ByteBuffer dir = ByteBuffer.allocate((int) dirSize).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, dir, dirOffset);
        Map<String, Entry> entries = new LinkedHashMap<>();
        int p = 0;
        for (long i = 0; i < count; i++) {
            if (p + 46 > dirSize || dir.getInt(p) != CENTRAL) {
                throw new IllegalArgumentException(path + ": broken zip central directory entry " + i);
            }
            int method = dir.getShort(p + 10) & 0xffff;
            long csize = dir.getInt(p + 20) & 0xffffffffL;
            long usize = dir.getInt(p + 24) & 0xffffffffL;
            int nameLen = dir.getShort(p + 28) & 0xffff;
            int extraLen = dir.getShort(p + 30) & 0xffff;
            int commentLen = dir.getShort(p + 32) & 0xffff;
            long local = dir.getInt(p + 42) & 0xffffffffL;
            if (p + 46L + nameLen + extraLen + commentLen > dirSize) {
                throw new IllegalArgumentException(path + ": broken zip central directory entry " + i);
            }
            byte[] nb = new byte[nameLen];
            dir.get(p + 46, nb);
            String name = new String(nb, java.nio.charset.StandardCharsets.UTF_8);
            // ZIP64 extra field: the 0xffffffff fields follow in the order usize, csize, offset
            int x = p + 46 + nameLen;
            int xEnd = x + extraLen;
            while (x + 4 <= xEnd) {
                int id = dir.getShort(x) & 0xffff;
                int len = dir.getShort(x + 2) & 0xffff;
                if (id == 0x0001) {
                    int q = x + 4;
                    if (usize == 0xffffffffL && q + 8 <= x + 4 + len) {
                        usize = dir.getLong(q);
                        q += 8;
                    }
                    if (csize == 0xffffffffL && q + 8 <= x + 4 + len) {
                        csize = dir.getLong(q);
                        q += 8;
                    }
                    if (local == 0xffffffffL && q + 8 <= x + 4 + len) {
                        local = dir.getLong(q);
                    }
                }
                x += 4 + len;
            }
            entries.put(name, new Entry(name, method, csize, usize, local));
            p += 46 + nameLen + extraLen + commentLen;
        }
        return entries;
    }

    /** Where an entry's data begins: after its local header, whose name and extra lengths may differ from the central one. */
    private static long dataOffset(Path path, FileChannel ch, Entry e) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, h, e.localHeader());
        if (h.getInt(0) != LOCAL) {
            throw new IllegalArgumentException(path + ": broken zip local header of " + e.name());
        }
        return e.localHeader() + 30 + (h.getShort(26) & 0xffff) + (h.getShort(28) & 0xffff);
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long at) throws IOException {
        long p = at;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, p);
            if (n < 0) {
                throw new IllegalArgumentException("unexpected end of file at byte " + p);
            }
            p += n;
        }
    }

    private static void closeQuietly(FileChannel ch, Throwable primary) {
        try {
            ch.close();
        } catch (IOException suppressed) {
            primary.addSuppressed(suppressed);
        }
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public List<TensorInfo> tensorInfos() {
        return new ArrayList<>(infos.values());
    }

    @Override
    public boolean contains(String name) {
        return infos.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo info = infos.get(name);
        if (info == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + path);
        }
        return info;
    }

    @Override
    public Tensor tensor(String name) {
        TensorInfo info = info(name);
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
        return mapped.computeIfAbsent(name, n -> map(info, dataStart.get(n)));
    }

    private Tensor map(TensorInfo info, long storageStart) {
        return SafetensorsFile.map(channel, storageStart, info, SafetensorsFile.DEFAULT_PIECE_BYTES, path);
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
        return "TorchZipFile[" + path + ", " + infos.size() + " tensors]";
    }
}
