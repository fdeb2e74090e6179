package dev.amalgam.modelio;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a state dict the way {@code torch.save(model.state_dict(), "pytorch_model.bin")} does, byte by byte (no
 * Python here), so the reader is tested against the format rather than against itself.
 *
 * <p>The zip (every entry STORED, i.e. uncompressed, as torch writes them):
 * <pre>
 *   archive/data.pkl     the pickle below
 *   archive/byteorder    "little"
 *   archive/data/0       storage 0's raw little-endian elements
 *   archive/data/1       ...
 *   archive/version      "3\n"
 * </pre>
 * The pickle, protocol 2, memoising every object with BINPUT as Python's pickler does:
 * <pre>
 *   80 02                                   PROTO 2
 *   63 "collections\nOrderedDict\n" 71 00    GLOBAL collections.OrderedDict, BINPUT 0
 *   29 52 71 01                              EMPTY_TUPLE, REDUCE -> OrderedDict(), BINPUT 1
 *   28                                       MARK (the items for SETITEMS)
 *   per tensor:
 *     58 len "name" 71 ..                    BINUNICODE key
 *     63 "torch._utils\n_rebuild_tensor_v2\n" (first time; later 68 n = BINGET)
 *     28                                     MARK (the argument tuple)
 *       28 58 "storage" 63 "torch\nFloatStorage\n" 58 "0" 58 "cpu" 4b numel 74 51
 *                                            MARK, 'storage', storage type, key, location, numel, TUPLE, BINPERSID
 *                                            (ints: BININT1 4b for 0..255, else BININT 4a, 4 bytes little-endian)
 *       4b offset                            storage offset (elements)
 *       28 4b d0 4b d1 .. 74                 size tuple (MARK .. TUPLE)
 *       28 4b s0 4b s1 .. 74                 stride tuple
 *       89                                   NEWFALSE requires_grad
 *       68 00 29 52                          BINGET OrderedDict, EMPTY_TUPLE, REDUCE -> backward hooks
 *     74 52                                  TUPLE, REDUCE -> the tensor
 *   75                                       SETITEMS
 *   7d 58 "_metadata" 7d 62                  EMPTY_DICT, {'_metadata': {}} -> BUILD (the state dict's attribute)
 *   2e                                       STOP
 * </pre>
 */
final class TorchBinWriter {

    /** One tensor: a view of {@code storage} from element {@code offset}, with its shape and strides. */
    record Entry(String name, String storage, long offset, long[] shape, long[] stride) {
        static Entry contiguous(String name, String storage, long offset, long... shape) {
            long[] stride = new long[shape.length];
            long s = 1;
            for (int i = shape.length - 1; i >= 0; i--) {
                stride[i] = s;
                s *= shape[i];
            }
            return new Entry(name, storage, offset, shape, stride);
        }
    }

    /** A storage: its torch type name ({@code FloatStorage}, {@code BFloat16Storage}, ...), element size and bytes. */
    record Storage(String type, int elementSize, byte[] bytes) {
    }

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Map<String, Integer> memo = new LinkedHashMap<>();
    private int next;

    private TorchBinWriter() {
    }

    static void write(Path file, List<Entry> entries, Map<String, Storage> storages) throws IOException {
        write(file, pickle(entries, storages), storages);
    }

    static void write(Path file, byte[] pickle, Map<String, Storage> storages) throws IOException {
        String archive = "archive/";
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            stored(zip, archive + "data.pkl", pickle);
            stored(zip, archive + "byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            for (Map.Entry<String, Storage> s : storages.entrySet()) {
                stored(zip, archive + "data/" + s.getKey(), s.getValue().bytes());
            }
            stored(zip, archive + "version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    static byte[] pickle(List<Entry> entries, Map<String, Storage> storages) {
        TorchBinWriter w = new TorchBinWriter();
        w.op(0x80).op(2);
        w.global("collections", "OrderedDict");
        w.op(')').op('R').put("state_dict");
        w.op('(');
        for (Entry e : entries) {
            w.unicode(e.name());
            w.global("torch._utils", "_rebuild_tensor_v2");
            w.op('(');
            // the persistent id is pickled again for every tensor of a storage, as Python's pickler does
            w.op('(');
            w.unicode("storage");
            w.global("torch", storages.get(e.storage()).type());
            w.unicode(e.storage());
            w.unicode("cpu");
            Storage s = storages.get(e.storage());
            w.binint(s.bytes().length / s.elementSize());
            w.op('t').op('Q');
            w.binint(e.offset());
            w.op('(');
            for (long d : e.shape()) {
                w.binint(d);
            }
            w.op('t').put(null);
            w.op('(');
            for (long st : e.stride()) {
                w.binint(st);
            }
            w.op('t').put(null);
            w.op(0x89);
            w.global("collections", "OrderedDict");
            w.op(')').op('R').put(null);
            w.op('t').put(null);
            w.op('R').put(null);
        }
        w.op('u');
        w.op('}').put(null);
        w.unicode("_metadata");
        w.op('}').put(null);
        w.op('s');
        w.op('b');
        w.op('.');
        return w.out.toByteArray();
    }

    /** A pickle that calls {@code os.system("echo pwned")}: what a malicious .bin holds. */
    static byte[] maliciousPickle() {
        TorchBinWriter w = new TorchBinWriter();
        w.op(0x80).op(2);
        w.global("os", "system");
        w.unicode("echo pwned");
        w.op(0x85).op('R').op('.');
        return w.out.toByteArray();
    }

    private TorchBinWriter op(int b) {
        out.write(b);
        return this;
    }

    private void global(String module, String name) {
        String key = "global:" + module + "." + name;
        if (memo.containsKey(key)) {
            get(key);
            return;
        }
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        put(key);
    }

    private void unicode(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        le32(b.length);
        out.writeBytes(b);
        put(null);
    }

    private void binint(long v) {
        if (v >= 0 && v < 256) {
            op('K').op((int) v);
        } else {
            op('J');
            le32((int) v);
        }
    }

    private void le32(int v) {
        op(v & 0xff).op(v >>> 8 & 0xff).op(v >>> 16 & 0xff).op(v >>> 24 & 0xff);
    }

    /** BINPUT of the object just pushed, remembered under {@code key} when given. */
    private TorchBinWriter put(String key) {
        int id = next++;
        if (key != null) {
            memo.put(key, id);
        }
        if (id < 256) {
            op('q').op(id);
        } else {
            op('r');
            le32(id);
        }
        return this;
    }

    private void get(String key) {
        int id = memo.get(key);
        if (id < 256) {
            op('h').op(id);
        } else {
            op('j');
            le32(id);
        }
    }

    /** Little-endian bytes of floats in a dtype (F32, F16 or BF16). */
    static byte[] bytes(DType dtype, float... values) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * dtype.size())
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case BF16 -> b.putShort(Dtypes.floatToBf16(v));
                case F16 -> b.putShort(Dtypes.floatToF16(v));
                default -> throw new IllegalArgumentException(dtype.toString());
            }
        }
        return b.array();
    }

    static List<Entry> list(Entry... e) {
        return new ArrayList<>(List.of(e));
    }
}
