package dev.amalgam.fusion.data.parquet;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.xerial.snappy.Snappy;

/**
 * Writes small Parquet files for tests, from a schema and each leaf column's levels and values given by hand (so the
 * reader's record assembly is checked against levels worked out independently, not against a second striper).
 * Levels are written as RLE runs, dictionary indices as one bit-packed run, the footer with a compact-protocol
 * writer of its own.
 */
public final class ParquetTestWriter {

    public enum Codec {
        UNCOMPRESSED(0), SNAPPY(1), GZIP(2), ZSTD(6), LZ4_RAW(7);

        final int id;

        Codec(int id) {
            this.id = id;
        }
    }

    /** A schema field: a group when {@code type} is -1. */
    public record Field(String name, int repetition, int type, String annotation, List<Field> children) {
    }

    /**
     * A leaf column: levels for every entry, values only for the entries at the maximum definition level;
     * {@code dictionary} writes a dictionary page and RLE_DICTIONARY indices, else PLAIN values; {@code fallback}
     * (with a dictionary) writes the pages after the first PLAIN, as pyarrow does once a dictionary grows too big.
     */
    public record Column(int[] rep, int[] def, List<Object> values, boolean dictionary, boolean fallback) {
    }

    public static final int REQUIRED = 0;
    public static final int OPTIONAL = 1;
    public static final int REPEATED = 2;

    private ParquetTestWriter() {
    }

    public static Field string(String name, int repetition) {
        return new Field(name, repetition, ParquetSchema.BYTE_ARRAY, "STRING", List.of());
    }

    public static Field dbl(String name, int repetition) {
        return new Field(name, repetition, ParquetSchema.DOUBLE, null, List.of());
    }

    public static Field int64(String name, int repetition) {
        return new Field(name, repetition, ParquetSchema.INT64, null, List.of());
    }

    public static Field group(String name, int repetition, String annotation, Field... children) {
        return new Field(name, repetition, -1, annotation, List.of(children));
    }

    /** pyarrow's layout of a list: {@code optional group name (LIST) { repeated group list { element } }}. */
    public static Field list(String name, Field element) {
        return group(name, OPTIONAL, "LIST", group("list", REPEATED, null, element));
    }

    public static Column column(int[] rep, int[] def, boolean dictionary, Object... values) {
        return new Column(rep, def, List.of(values), dictionary, false);
    }

    /** A dictionary column whose pages after the first are PLAIN. */
    public static Column fallback(int[] rep, int[] def, Object... values) {
        return new Column(rep, def, List.of(values), true, true);
    }

    /**
     * Writes the file: one row group of {@code rows}, each column in pages of at most {@code rowsPerPage} rows (v2
     * pages when {@code pageV2}), compressed with {@code codec}.
     */
    public static void write(Path file, List<Field> fields, List<Column> columns, long rows, Codec codec,
            boolean pageV2, int rowsPerPage) {
        List<Field> leaves = new ArrayList<>();
        List<List<String>> paths = new ArrayList<>();
        List<int[]> maxLevels = new ArrayList<>();
        for (Field f : fields) {
            leaves(f, new ArrayList<>(), 0, 0, leaves, paths, maxLevels);
        }
        if (leaves.size() != columns.size()) {
            throw new IllegalArgumentException(leaves.size() + " leaves, " + columns.size() + " columns");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("PAR1".getBytes(StandardCharsets.US_ASCII));
        List<byte[]> chunkMetas = new ArrayList<>();
        for (int c = 0; c < columns.size(); c++) {
            Column col = columns.get(c);
            Field leaf = leaves.get(c);
            int maxDef = maxLevels.get(c)[0];
            int maxRep = maxLevels.get(c)[1];
            long chunkStart = out.size();
            long dictionaryOffset = -1;
            Map<Object, Integer> dictionary = new LinkedHashMap<>();
            if (col.dictionary()) {
                for (Object v : col.values()) {
                    dictionary.putIfAbsent(key(v), dictionary.size());
                }
                ByteArrayOutputStream plain = new ByteArrayOutputStream();
                for (Object k : dictionary.keySet()) {
                    plain(plain, leaf.type(), k instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : k);
                }
                dictionaryOffset = out.size();
                byte[] raw = plain.toByteArray();
                byte[] body = compress(codec, raw);
                Thrift h = new Thrift().i32(1, 2).i32(2, raw.length).i32(3, body.length)
                        .struct(7, new Thrift().i32(1, dictionary.size()).i32(2, 0));
                out.writeBytes(h.bytes());
                out.writeBytes(body);
            }
            long dataOffset = out.size();
            int valueIndex = 0;
            int entry = 0;
            int pageIndex = 0;
            int n = col.rep().length;
            while (entry < n) {
                // a page: rowsPerPage rows, cut where a row starts
                int end = entry;
                int rowsInPage = 0;
                do {
                    end++;
                    while (end < n && col.rep()[end] != 0) {
                        end++;
                    }
                    rowsInPage++;
                } while (end < n && rowsInPage < rowsPerPage);
                int count = end - entry;
                boolean dictionaryPage = col.dictionary() && !(col.fallback() && pageIndex > 0);
                pageIndex++;
                byte[] repLevels = maxRep > 0 ? rle(slice(col.rep(), entry, end), bitWidth(maxRep)) : new byte[0];
                byte[] defLevels = maxDef > 0 ? rle(slice(col.def(), entry, end), bitWidth(maxDef)) : new byte[0];
                ByteArrayOutputStream values = new ByteArrayOutputStream();
                List<Integer> indices = new ArrayList<>();
                int nulls = 0;
                for (int i = entry; i < end; i++) {
                    if (col.def()[i] != maxDef) {
                        nulls++;
                        continue;
                    }
                    Object v = col.values().get(valueIndex++);
                    if (dictionaryPage) {
                        indices.add(dictionary.get(key(v)));
                    } else {
                        plain(values, leaf.type(), v instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : v);
                    }
                }
                if (dictionaryPage) {
                    int width = Math.max(1, bitWidth(dictionary.size() - 1));
                    values.write(width);
                    values.writeBytes(bitPacked(indices, width));
                }
                int encoding = dictionaryPage ? 8 : 0;
                if (pageV2) {
                    byte[] raw = values.toByteArray();
                    byte[] body = compress(codec, raw);
                    Thrift h = new Thrift().i32(1, 3).i32(2, repLevels.length + defLevels.length + raw.length)
                            .i32(3, repLevels.length + defLevels.length + body.length)
                            .struct(8, new Thrift().i32(1, count).i32(2, nulls).i32(3, rowsInPage).i32(4, encoding)
                                    .i32(5, defLevels.length).i32(6, repLevels.length));
                    out.writeBytes(h.bytes());
                    out.writeBytes(repLevels);
                    out.writeBytes(defLevels);
                    out.writeBytes(body);
                } else {
                    ByteArrayOutputStream page = new ByteArrayOutputStream();
                    if (maxRep > 0) {
                        page.writeBytes(le32(repLevels.length));
                        page.writeBytes(repLevels);
                    }
                    if (maxDef > 0) {
                        page.writeBytes(le32(defLevels.length));
                        page.writeBytes(defLevels);
                    }
                    page.writeBytes(values.toByteArray());
                    byte[] raw = page.toByteArray();
                    byte[] body = compress(codec, raw);
                    Thrift h = new Thrift().i32(1, 0).i32(2, raw.length).i32(3, body.length)
                            .struct(5, new Thrift().i32(1, count).i32(2, encoding).i32(3, 3).i32(4, 3));
                    out.writeBytes(h.bytes());
                    out.writeBytes(body);
                }
                entry = end;
            }
            long chunkLength = out.size() - chunkStart;
            Thrift meta = new Thrift().i32(1, leaf.type()).i32List(2, col.dictionary() ? List.of(0, 3, 8) : List.of(0, 3))
                    .stringList(3, paths.get(c)).i32(4, codec.id).i64(5, n).i64(6, chunkLength).i64(7, chunkLength)
                    .i64(9, dataOffset);
            if (dictionaryOffset >= 0) {
                meta.i64(11, dictionaryOffset);
            }
            chunkMetas.add(new Thrift().i64(2, chunkStart).struct(3, meta).bytes());
        }
        List<byte[]> schema = new ArrayList<>();
        schema.add(new Thrift().string(4, "schema").i32(5, fields.size()).bytes());
        for (Field f : fields) {
            schemaElements(f, schema);
        }
        Thrift rowGroup = new Thrift().structList(1, chunkMetas).i64(2, out.size()).i64(3, rows);
        byte[] footer = new Thrift().i32(1, 1).structList(2, schema).i64(3, rows)
                .structList(4, List.of(rowGroup.bytes())).string(6, "amalgam test writer").bytes();
        out.writeBytes(footer);
        out.writeBytes(le32(footer.length));
        out.writeBytes("PAR1".getBytes(StandardCharsets.US_ASCII));
        try {
            Files.write(file, out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Object key(Object v) {
        return v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : v;
    }

    /** The leaves in schema order with their paths and {max definition, max repetition} levels. */
    private static void leaves(Field f, List<String> prefix, int def, int rep, List<Field> leaves,
            List<List<String>> paths, List<int[]> maxLevels) {
        List<String> path = new ArrayList<>(prefix);
        path.add(f.name());
        int d = f.repetition() == REQUIRED ? def : def + 1;
        int r = f.repetition() == REPEATED ? rep + 1 : rep;
        if (f.type() >= 0) {
            leaves.add(f);
            paths.add(path);
            maxLevels.add(new int[] {d, r});
        } else {
            for (Field c : f.children()) {
                leaves(c, path, d, r, leaves, paths, maxLevels);
            }
        }
    }

    private static void schemaElements(Field f, List<byte[]> out) {
        Thrift e = new Thrift();
        if (f.type() >= 0) {
            e.i32(1, f.type());
        }
        e.i32(3, f.repetition()).string(4, f.name());
        if (f.type() < 0) {
            e.i32(5, f.children().size());
        }
        if ("STRING".equals(f.annotation())) {
            // the logical type only, as newer writers may: a union StringType at id 1
            e.struct(10, new Thrift().struct(1, new Thrift()));
        } else if ("LIST".equals(f.annotation())) {
            e.i32(6, 3); // the legacy converted type only
        } else if ("MAP".equals(f.annotation())) {
            e.i32(6, 1);
        }
        out.add(e.bytes());
        for (Field c : f.children()) {
            schemaElements(c, out);
        }
    }

    private static void plain(ByteArrayOutputStream out, int type, Object v) {
        ByteBuffer b;
        switch (type) {
            case ParquetSchema.BYTE_ARRAY -> {
                byte[] bytes = (byte[]) v;
                out.writeBytes(le32(bytes.length));
                out.writeBytes(bytes);
                return;
            }
            case ParquetSchema.DOUBLE -> b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                    .putDouble(((Number) v).doubleValue());
            case ParquetSchema.INT64 -> b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(((Number) v).longValue());
            case ParquetSchema.INT32 -> b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(((Number) v).intValue());
            default -> throw new IllegalArgumentException("type " + type);
        }
        out.writeBytes(b.array());
    }

    /** RLE runs of equal consecutive levels. */
    static byte[] rle(int[] levels, int width) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < levels.length) {
            int j = i;
            while (j < levels.length && levels[j] == levels[i]) {
                j++;
            }
            uleb(out, (long) (j - i) << 1);
            for (int k = 0; k < (width + 7) / 8; k++) {
                out.write(levels[i] >>> (8 * k) & 0xFF);
            }
            i = j;
        }
        return out.toByteArray();
    }

    /** One bit-packed run, padded to a multiple of 8 values. */
    static byte[] bitPacked(List<Integer> values, int width) {
        int groups = (values.size() + 7) / 8;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        uleb(out, ((long) groups << 1) | 1);
        long acc = 0;
        int bits = 0;
        for (int i = 0; i < groups * 8; i++) {
            long v = i < values.size() ? values.get(i) : 0;
            acc |= v << bits;
            bits += width;
            while (bits >= 8) {
                out.write((int) (acc & 0xFF));
                acc >>>= 8;
                bits -= 8;
            }
        }
        return out.toByteArray();
    }

    private static byte[] compress(Codec codec, byte[] raw) {
        try {
            return switch (codec) {
                case UNCOMPRESSED, LZ4_RAW -> raw;
                case SNAPPY -> Snappy.compress(raw);
                case ZSTD -> Zstd.compress(raw);
                case GZIP -> {
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    try (GZIPOutputStream g = new GZIPOutputStream(b)) {
                        g.write(raw);
                    }
                    yield b.toByteArray();
                }
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] slice(int[] a, int from, int to) {
        return java.util.Arrays.copyOfRange(a, from, to);
    }

    private static int bitWidth(int max) {
        return 32 - Integer.numberOfLeadingZeros(max);
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static void uleb(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    /** A compact-protocol struct writer: fields in increasing id order, closed by {@link #bytes}. */
    static final class Thrift {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int lastId;

        private void header(int id, int type) {
            int delta = id - lastId;
            if (delta > 0 && delta <= 15) {
                out.write(delta << 4 | type);
            } else {
                out.write(type);
                uleb(out, zigzag(id));
            }
            lastId = id;
        }

        Thrift i32(int id, int v) {
            header(id, 5);
            uleb(out, zigzag(v));
            return this;
        }

        Thrift i64(int id, long v) {
            header(id, 6);
            uleb(out, zigzag(v));
            return this;
        }

        Thrift string(int id, String s) {
            header(id, 8);
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            uleb(out, b.length);
            out.writeBytes(b);
            return this;
        }

        Thrift struct(int id, Thrift s) {
            header(id, 12);
            out.writeBytes(s.bytes());
            return this;
        }

        Thrift structList(int id, List<byte[]> structs) {
            listHeader(id, structs.size(), 12);
            structs.forEach(out::writeBytes);
            return this;
        }

        Thrift i32List(int id, List<Integer> values) {
            listHeader(id, values.size(), 5);
            values.forEach(v -> uleb(out, zigzag(v)));
            return this;
        }

        Thrift stringList(int id, List<String> values) {
            listHeader(id, values.size(), 8);
            for (String s : values) {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                uleb(out, b.length);
                out.writeBytes(b);
            }
            return this;
        }

        private void listHeader(int id, int size, int elementType) {
            header(id, 9);
            if (size < 15) {
                out.write(size << 4 | elementType);
            } else {
                out.write(0xF0 | elementType);
                uleb(out, size);
            }
        }

        byte[] bytes() {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.writeBytes(out.toByteArray());
            b.write(0);
            return b.toByteArray();
        }

        private static long zigzag(long v) {
            return (v << 1) ^ (v >> 63);
        }
    }
}
