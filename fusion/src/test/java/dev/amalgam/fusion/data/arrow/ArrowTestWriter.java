package dev.amalgam.fusion.data.arrow;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes small Arrow IPC streams for tests, as pyarrow's {@code RecordBatchStreamWriter} lays them out: a Schema
 * message, one RecordBatch message per batch, the end-of-stream marker. Rows are Java values (String, Double, List
 * for a list, Map for a struct, null) encoded column by column into validity bitmaps, offsets and data; metadata
 * goes through a FlatBuffers writer of its own that places every table before what it refers to.
 */
public final class ArrowTestWriter {

    /** A field: type UTF8, DOUBLE, STRUCT or LIST. */
    public record Field(String name, String type, List<Field> children) {
    }

    public static Field utf8(String name) {
        return new Field(name, "UTF8", List.of());
    }

    public static Field dbl(String name) {
        return new Field(name, "DOUBLE", List.of());
    }

    /** A Decimal field (written with a double's buffers): only for testing that the type is refused by name. */
    public static Field decimal(String name) {
        return new Field(name, "DECIMAL", List.of());
    }

    public static Field struct(String name, Field... children) {
        return new Field(name, "STRUCT", List.of(children));
    }

    public static Field list(String name, Field element) {
        return new Field(name, "LIST", List.of(element));
    }

    private ArrowTestWriter() {
    }

    /**
     * Writes the rows (each a map of top-level field name to value) in batches of {@code batchRows}; {@code
     * continuation} false writes the pre-1.0 framing (no 0xFFFFFFFF marker).
     */
    public static void write(Path file, List<Field> fields, List<Map<String, Object>> rows, int batchRows,
            boolean continuation) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Object> schemaFields = new ArrayList<>();
        for (Field f : fields) {
            schemaFields.add(field(f));
        }
        Tbl schema = new Tbl(new Scalar(0), new TblVec(schemaFields));
        message(out, 1, schema, new byte[0], continuation);
        for (int from = 0; from < rows.size(); from += batchRows) {
            List<Map<String, Object>> batch = rows.subList(from, Math.min(rows.size(), from + batchRows));
            List<long[]> nodes = new ArrayList<>();
            List<long[]> buffers = new ArrayList<>();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            for (Field f : fields) {
                List<Object> values = new ArrayList<>();
                for (Map<String, Object> r : batch) {
                    values.add(r.get(f.name()));
                }
                encode(f, values, nodes, buffers, body);
            }
            Tbl recordBatch = new Tbl(new Scalar(batch.size()), new StructVec(nodes), new StructVec(buffers));
            message(out, 3, recordBatch, body.toByteArray(), continuation);
        }
        if (continuation) {
            out.writeBytes(le32(-1));
        }
        out.writeBytes(le32(0));
        try {
            Files.write(file, out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Tbl field(Field f) {
        int typeId = switch (f.type()) {
            case "UTF8" -> 5;
            case "DOUBLE" -> 3;
            case "DECIMAL" -> 7;
            case "STRUCT" -> 13;
            case "LIST" -> 12;
            default -> throw new IllegalArgumentException(f.type());
        };
        Tbl type = f.type().equals("DOUBLE") ? new Tbl(new Scalar(2)) : new Tbl();
        List<Object> children = new ArrayList<>();
        for (Field c : f.children()) {
            children.add(field(c));
        }
        // name, nullable, type_type, type, dictionary (absent), children
        return new Tbl(new Str(f.name()), new Scalar(1), new Scalar(typeId), type, null, new TblVec(children));
    }

    private static void message(ByteArrayOutputStream out, int headerType, Tbl header, byte[] body,
            boolean continuation) {
        // version V5 (4), header_type, header, bodyLength
        byte[] meta = FlatWriter.root(new Tbl(new Scalar(4), new Scalar(headerType), header, new Scalar(body.length)));
        int padded = (meta.length + 7) / 8 * 8;
        if (continuation) {
            out.writeBytes(le32(-1));
        }
        out.writeBytes(le32(padded));
        out.writeBytes(meta);
        out.writeBytes(new byte[padded - meta.length]);
        out.writeBytes(body);
    }

    /** Appends the field's node and buffers (validity first), then its children's, depth-first. */
    @SuppressWarnings("unchecked")
    private static void encode(Field f, List<Object> values, List<long[]> nodes, List<long[]> buffers,
            ByteArrayOutputStream body) {
        int nulls = (int) values.stream().filter(v -> v == null).count();
        nodes.add(new long[] {values.size(), nulls});
        byte[] validity = new byte[(values.size() + 7) / 8];
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i) != null) {
                validity[i >>> 3] |= (byte) (1 << (i & 7));
            }
        }
        buffer(nulls == 0 ? new byte[0] : validity, buffers, body); // no bitmap without nulls, as pyarrow writes
        switch (f.type()) {
            case "UTF8" -> {
                ByteArrayOutputStream offsets = new ByteArrayOutputStream();
                ByteArrayOutputStream data = new ByteArrayOutputStream();
                offsets.writeBytes(le32(0));
                for (Object v : values) {
                    if (v != null) {
                        data.writeBytes(((String) v).getBytes(StandardCharsets.UTF_8));
                    }
                    offsets.writeBytes(le32(data.size()));
                }
                buffer(offsets.toByteArray(), buffers, body);
                buffer(data.toByteArray(), buffers, body);
            }
            case "DOUBLE", "DECIMAL" -> {
                ByteBuffer data = ByteBuffer.allocate(8 * values.size()).order(ByteOrder.LITTLE_ENDIAN);
                for (Object v : values) {
                    data.putDouble(v == null ? 0 : (Double) v);
                }
                buffer(data.array(), buffers, body);
            }
            case "STRUCT" -> {
                for (Field c : f.children()) {
                    List<Object> child = new ArrayList<>();
                    for (Object v : values) {
                        child.add(v == null ? null : ((Map<String, Object>) v).get(c.name()));
                    }
                    encode(c, child, nodes, buffers, body);
                }
            }
            case "LIST" -> {
                ByteArrayOutputStream offsets = new ByteArrayOutputStream();
                List<Object> child = new ArrayList<>();
                offsets.writeBytes(le32(0));
                for (Object v : values) {
                    if (v != null) {
                        child.addAll((List<Object>) v);
                    }
                    offsets.writeBytes(le32(child.size()));
                }
                buffer(offsets.toByteArray(), buffers, body);
                encode(f.children().get(0), child, nodes, buffers, body);
            }
            default -> throw new IllegalArgumentException(f.type());
        }
    }

    private static void buffer(byte[] b, List<long[]> buffers, ByteArrayOutputStream body) {
        buffers.add(new long[] {body.size(), b.length});
        body.writeBytes(b);
        body.writeBytes(new byte[(8 - b.length % 8) % 8]);
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    /** A table: field i is {@code fields[i]} (null: absent). */
    record Tbl(Object... fields) {
    }

    record Str(String s) {
    }

    /** A scalar in an 8-byte slot: a reader of a narrower type reads its low bytes (little-endian). */
    record Scalar(long value) {
    }

    record TblVec(List<Object> tables) {
    }

    /** A vector of structs made of 64-bit words. */
    record StructVec(List<long[]> structs) {
    }

    /** FlatBuffers, laid out front to back: a vtable, its table, then what the table's offsets point to. */
    static final class FlatWriter {
        private ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        static byte[] root(Tbl t) {
            FlatWriter w = new FlatWriter();
            w.b.putInt(0); // patched: the root table's offset
            int table = w.table(t);
            w.b.putInt(0, table);
            byte[] out = new byte[w.b.position()];
            w.b.get(0, out);
            return out;
        }

        private int table(Tbl t) {
            int n = t.fields().length;
            int vtable = b.position();
            b.putShort((short) (4 + 2 * n)).putShort((short) (4 + 8 * n));
            for (int i = 0; i < n; i++) {
                b.putShort((short) (t.fields()[i] == null ? 0 : 4 + 8 * i));
            }
            int table = b.position();
            b.putInt(table - vtable);
            for (int i = 0; i < n; i++) {
                b.putLong(t.fields()[i] instanceof Scalar s ? s.value() : 0);
            }
            for (int i = 0; i < n; i++) {
                Object f = t.fields()[i];
                if (f == null || f instanceof Scalar) {
                    continue;
                }
                int slot = table + 4 + 8 * i;
                int at = value(f);
                b.putInt(slot, at - slot);
            }
            return table;
        }

        private int value(Object f) {
            int at = b.position();
            if (f instanceof Tbl t) {
                return table(t);
            }
            if (f instanceof Str s) {
                byte[] bytes = s.s().getBytes(StandardCharsets.UTF_8);
                b.putInt(bytes.length).put(bytes).put((byte) 0);
            } else if (f instanceof StructVec v) {
                b.putInt(v.structs().size());
                v.structs().forEach(words -> {
                    for (long w : words) {
                        b.putLong(w);
                    }
                });
            } else if (f instanceof TblVec v) {
                b.putInt(v.tables().size());
                int slots = b.position();
                for (int i = 0; i < v.tables().size(); i++) {
                    b.putInt(0);
                }
                for (int i = 0; i < v.tables().size(); i++) {
                    int table = table((Tbl) v.tables().get(i));
                    b.putInt(slots + 4 * i, table - (slots + 4 * i));
                }
            } else {
                throw new IllegalArgumentException(String.valueOf(f));
            }
            return at;
        }
    }
}
