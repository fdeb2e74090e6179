package dev.amalgam.merge;

import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Rewrites a safetensors model directory as {@code pytorch_model.bin} the way {@code torch.save(state_dict)} lays it
 * out (the byte layout is documented in model-io's {@code TorchBinWriter} test helper): a zip of STORED entries
 * {@code archive/data.pkl} (a protocol 2 pickle of an OrderedDict of {@code _rebuild_tensor_v2} calls with
 * {@code ('storage', torch.FloatStorage, key, 'cpu', numel)} persistent ids), {@code archive/data/<key>} (each
 * tensor's raw little-endian bytes), {@code archive/byteorder}, {@code archive/version}.
 */
final class TorchBin {

    private TorchBin() {
    }

    /** Replaces {@code model.safetensors} of {@code dir} by an equivalent {@code pytorch_model.bin}. */
    static void convert(Path dir) {
        List<String> names = new ArrayList<>();
        List<byte[]> storages = new ArrayList<>();
        List<DType> dtypes = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        try (HfModelDir m = HfModelDir.open(dir)) {
            for (String n : m.tensorNames()) {
                Tensor t = m.tensor(n);
                ByteBuffer raw = t.rawBytes();
                byte[] b = new byte[raw.remaining()];
                raw.get(b);
                names.add(n);
                storages.add(b);
                dtypes.add(t.dtype());
                shapes.add(t.shape());
            }
        }
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80);
        p.write(2);
        global(p, "collections", "OrderedDict");
        p.write(')');
        p.write('R');
        p.write('(');
        for (int i = 0; i < names.size(); i++) {
            unicode(p, names.get(i));
            global(p, "torch._utils", "_rebuild_tensor_v2");
            p.write('(');
            p.write('(');
            unicode(p, "storage");
            global(p, "torch", switch (dtypes.get(i)) {
                case F32 -> "FloatStorage";
                case BF16 -> "BFloat16Storage";
                case F16 -> "HalfStorage";
                default -> throw new IllegalArgumentException(dtypes.get(i).toString());
            });
            unicode(p, Integer.toString(i));
            unicode(p, "cpu");
            binint(p, storages.get(i).length / dtypes.get(i).size());
            p.write('t');
            p.write('Q');
            binint(p, 0);
            long[] shape = shapes.get(i);
            p.write('(');
            for (long d : shape) {
                binint(p, d);
            }
            p.write('t');
            p.write('(');
            long stride = 1;
            long[] strides = new long[shape.length];
            for (int d = shape.length - 1; d >= 0; d--) {
                strides[d] = stride;
                stride *= shape[d];
            }
            for (long s : strides) {
                binint(p, s);
            }
            p.write('t');
            p.write(0x89);
            global(p, "collections", "OrderedDict");
            p.write(')');
            p.write('R');
            p.write('t');
            p.write('R');
        }
        p.write('u');
        p.write('.');
        try {
            Files.delete(dir.resolve("model.safetensors"));
            try (OutputStream os = Files.newOutputStream(dir.resolve("pytorch_model.bin"));
                 ZipOutputStream zip = new ZipOutputStream(os)) {
                stored(zip, "archive/data.pkl", p.toByteArray());
                stored(zip, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
                for (int i = 0; i < storages.size(); i++) {
                    stored(zip, "archive/data/" + i, storages.get(i));
                }
                stored(zip, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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

    private static void global(ByteArrayOutputStream p, String module, String name) {
        p.write('c');
        p.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private static void unicode(ByteArrayOutputStream p, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        p.write('X');
        p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        p.writeBytes(b);
    }

    private static void binint(ByteArrayOutputStream p, long v) {
        p.write('J');
        p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
    }
}
