package dev.amalgam.fusion.data.parquet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads the rows of a Parquet file as JSON objects, the shape {@code pyarrow} / {@code datasets} give them: a struct
 * is an object, a LIST (or a bare repeated field) an array, a MAP an object, a null a JSON null; strings (STRING,
 * ENUM, JSON annotations) are text, other byte arrays binary, DECIMAL a decimal number, integers and floats numbers
 * (DATE, TIME and TIMESTAMP as their stored integers).
 *
 * <p>The supported subset is what Hugging Face hub datasets are written with (pyarrow's defaults and common
 * options): data pages v1 and v2, a dictionary page, PLAIN and dictionary (PLAIN_DICTIONARY, RLE_DICTIONARY)
 * values, RLE/bit-packed levels, UNCOMPRESSED/SNAPPY/GZIP/ZSTD pages, any nesting of required, optional and
 * repeated fields with the three-level LIST layout and the older two-level ones. Not supported, each failing with
 * a {@link ParquetFormatException} that names it: DELTA_* and BYTE_STREAM_SPLIT encodings, BIT_PACKED levels, LZ4,
 * LZ4_RAW, BROTLI and LZO codecs, INT96, encrypted files, column chunks in other files. A row group is decoded whole
 * into memory, one row group at a time; the file's chunks are memory-mapped, not read whole.
 *
 * <pre>{@code
 * long rows = ParquetFile.read(Path.of("train-00000-of-00001.parquet"), (index, row) -> ...);
 * }</pre>
 */
public final class ParquetFile {

    private static final byte[] MAGIC = {'P', 'A', 'R', '1'};
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** Receives each row with its 0-based index in the file. */
    @FunctionalInterface
    public interface RowSink {
        void accept(long index, ObjectNode row);
    }

    private ParquetFile() {
    }

    /**
     * Streams every row of {@code file}, in order, to {@code sink}; returns the number of rows. A file outside the
     * supported subset fails with a {@link ParquetFormatException} whose message starts with the file.
     */
    public static long read(Path file, RowSink sink) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ThriftCompact.Struct footer;
            ParquetSchema schema;
            try {
                footer = footer(ch);
                schema = ParquetSchema.of(footer.list(2));
            } catch (RuntimeException e) {
                throw wrap(file, e);
            }
            long index = 0;
            for (ThriftCompact.Struct rowGroup : footer.<ThriftCompact.Struct>list(4)) {
                ColumnChunkReader.Column[] columns;
                long rows;
                try {
                    rows = rowGroup.i64(3);
                    columns = columns(ch, schema, rowGroup);
                } catch (RuntimeException e) {
                    throw wrap(file, e);
                }
                Assembler a = new Assembler(schema, columns);
                for (long r = 0; r < rows; r++) {
                    ObjectNode row;
                    try {
                        row = a.row();
                    } catch (RuntimeException e) {
                        throw wrap(file, e);
                    }
                    sink.accept(index++, row);
                }
            }
            return index;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static ParquetFormatException wrap(Path file, RuntimeException e) {
        String message = e instanceof ParquetFormatException ? e.getMessage() : "corrupt file (" + e + ")";
        return new ParquetFormatException(file + ": " + message, e);
    }

    private static ThriftCompact.Struct footer(FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 12) {
            throw new ParquetFormatException("not a Parquet file: " + size + " bytes");
        }
        ByteBuffer tail = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(tail, size - 8);
        tail.flip();
        int length = tail.getInt();
        byte[] magic = new byte[4];
        tail.get(magic);
        if (new String(magic, java.nio.charset.StandardCharsets.US_ASCII).equals("PARE")) {
            throw new ParquetFormatException("encrypted Parquet files are not supported");
        }
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new ParquetFormatException("not a Parquet file (no PAR1 at its end)");
        }
        if (length <= 0 || length > size - 12) {
            throw new ParquetFormatException("corrupt footer length " + length);
        }
        ByteBuffer meta = ByteBuffer.allocate(length);
        ch.read(meta, size - 8 - length);
        meta.flip();
        return new ThriftCompact(meta).readStruct();
    }

    private static ColumnChunkReader.Column[] columns(FileChannel ch, ParquetSchema schema,
            ThriftCompact.Struct rowGroup) throws IOException {
        List<ThriftCompact.Struct> chunks = rowGroup.list(1);
        if (chunks.size() != schema.columns.size()) {
            throw new ParquetFormatException("a row group with " + chunks.size() + " column chunks for "
                    + schema.columns.size() + " columns");
        }
        ColumnChunkReader.Column[] out = new ColumnChunkReader.Column[chunks.size()];
        for (int i = 0; i < out.length; i++) {
            ThriftCompact.Struct chunk = chunks.get(i);
            ParquetSchema.Node leaf = schema.columns.get(i);
            if (chunk.string(1) != null) {
                throw new ParquetFormatException(leaf.path + ": column chunks in other files are not supported");
            }
            ThriftCompact.Struct meta = chunk.struct(3);
            if (meta == null) {
                throw new ParquetFormatException(leaf.path + ": a column chunk without metadata (encrypted?)");
            }
            if (leaf.type == ParquetSchema.INT96) {
                throw new ParquetFormatException(leaf.path + ": physical type INT96 (legacy timestamps) is not "
                        + "supported");
            }
            long start = meta.i64(9);
            long dictionary = meta.i64(11, -1);
            if (dictionary > 0 && dictionary < start) {
                start = dictionary; // some writers store 0 for "no dictionary page"
            }
            long length = meta.i64(7);
            if (start < 0 || length < 0 || start + length > ch.size() || length > Integer.MAX_VALUE) {
                throw new ParquetFormatException(leaf.path + ": a column chunk outside the file");
            }
            ByteBuffer bytes = ch.map(FileChannel.MapMode.READ_ONLY, start, length);
            try {
                out[i] = ColumnChunkReader.read(leaf, meta, bytes);
            } catch (ParquetFormatException e) {
                throw new ParquetFormatException("column " + leaf.path + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /**
     * Record assembly (Dremel): a row's entries in each leaf column run from the cursor to the next entry with
     * repetition level 0; within them, a repeated node's elements start at the entries whose repetition level is at
     * most the node's, and a node is null or empty where the first entry's definition level is below the node's.
     */
    private static final class Assembler {
        private final ParquetSchema schema;
        private final ColumnChunkReader.Column[] columns;
        private final int[] cursor;

        Assembler(ParquetSchema schema, ColumnChunkReader.Column[] columns) {
            this.schema = schema;
            this.columns = columns;
            this.cursor = new int[columns.length];
        }

        ObjectNode row() {
            int n = columns.length;
            int[] start = new int[n];
            int[] end = new int[n];
            for (int c = 0; c < n; c++) {
                ColumnChunkReader.Column col = columns[c];
                if (cursor[c] >= col.size()) {
                    throw new ParquetFormatException("column " + schema.columns.get(c).path
                            + " has fewer rows than its row group");
                }
                start[c] = cursor[c];
                int e = cursor[c] + 1;
                while (e < col.size() && col.rep()[e] != 0) {
                    e++;
                }
                end[c] = e;
                cursor[c] = e;
            }
            return (ObjectNode) object(schema.root, start, end);
        }

        private JsonNode field(ParquetSchema.Node node, int[] start, int[] end) {
            if (node.repetition != ParquetSchema.Repetition.REPEATED) {
                return instance(node, start, end);
            }
            ArrayNode out = JSON.arrayNode();
            forEachElement(node, start, end, (s, e) -> out.add(instance(node, s, e)));
            return out;
        }

        /** Splits the entries of {@code node}'s leaves into its elements; none when the node is not defined. */
        private void forEachElement(ParquetSchema.Node node, int[] start, int[] end, ElementSink sink) {
            int first = node.leaves.get(0);
            if (columns[first].def()[start[first]] < node.defLevel) {
                return; // an empty list (or the list's parent is null)
            }
            List<int[]> bounds = new ArrayList<>();
            for (int leaf : node.leaves) {
                int[] rep = columns[leaf].rep();
                List<Integer> at = new ArrayList<>();
                at.add(start[leaf]);
                for (int i = start[leaf] + 1; i < end[leaf]; i++) {
                    if (rep[i] <= node.repLevel) {
                        at.add(i);
                    }
                }
                at.add(end[leaf]);
                bounds.add(at.stream().mapToInt(Integer::intValue).toArray());
            }
            int elements = bounds.get(0).length - 1;
            for (int[] b : bounds) {
                if (b.length - 1 != elements) {
                    throw new ParquetFormatException("the columns under " + node.path
                            + " disagree on the number of elements");
                }
            }
            for (int k = 0; k < elements; k++) {
                int[] s = start.clone();
                int[] e = end.clone();
                for (int j = 0; j < node.leaves.size(); j++) {
                    s[node.leaves.get(j)] = bounds.get(j)[k];
                    e[node.leaves.get(j)] = bounds.get(j)[k + 1];
                }
                sink.accept(s, e);
            }
        }

        @FunctionalInterface
        private interface ElementSink {
            void accept(int[] start, int[] end);
        }

        /** One occurrence of {@code node} (an element, for a repeated one): null when not defined. */
        private JsonNode instance(ParquetSchema.Node node, int[] start, int[] end) {
            int first = node.leaves.get(0);
            if (columns[first].def()[start[first]] < node.defLevel) {
                return JSON.nullNode();
            }
            if (node.isLeaf()) {
                return value(node, columns[first].values()[start[first]]);
            }
            if ("LIST".equals(node.annotation)) {
                return list(node, start, end);
            }
            if ("MAP".equals(node.annotation)) {
                return map(node, start, end);
            }
            return object(node, start, end);
        }

        private JsonNode object(ParquetSchema.Node node, int[] start, int[] end) {
            ObjectNode o = JSON.objectNode();
            for (ParquetSchema.Node c : node.children) {
                o.set(c.name, field(c, start, end));
            }
            return o;
        }

        /**
         * LIST: one repeated child. Three-level ({@code repeated group list { element }}) when that child is a group
         * of one field not named {@code array} or {@code <list>_tuple}; otherwise the repeated child is the element
         * (the older two-level layouts), as the format's backward-compatibility rules say.
         */
        private JsonNode list(ParquetSchema.Node node, int[] start, int[] end) {
            if (node.children.size() != 1 || node.children.get(0).repetition != ParquetSchema.Repetition.REPEATED) {
                throw new ParquetFormatException(node.path + ": a LIST group needs exactly one repeated field");
            }
            ParquetSchema.Node repeated = node.children.get(0);
            boolean threeLevel = !repeated.isLeaf() && repeated.children.size() == 1
                    && !repeated.name.equals("array") && !repeated.name.equals(node.name + "_tuple");
            ArrayNode out = JSON.arrayNode();
            forEachElement(repeated, start, end, (s, e) -> out.add(threeLevel
                    ? field(repeated.children.get(0), s, e) : instance(repeated, s, e)));
            return out;
        }

        /** MAP: {@code repeated group key_value { key; value }} -> an object keyed by the keys' text. */
        private JsonNode map(ParquetSchema.Node node, int[] start, int[] end) {
            ParquetSchema.Node kv = node.children.size() == 1 ? node.children.get(0) : null;
            if (kv == null || kv.repetition != ParquetSchema.Repetition.REPEATED || kv.isLeaf()
                    || kv.children.isEmpty()) {
                throw new ParquetFormatException(node.path + ": a MAP group needs one repeated key_value group");
            }
            ObjectNode out = JSON.objectNode();
            forEachElement(kv, start, end, (s, e) -> {
                JsonNode key = field(kv.children.get(0), s, e);
                JsonNode value = kv.children.size() > 1 ? field(kv.children.get(1), s, e) : JSON.nullNode();
                out.set(key.isString() ? key.asString() : key.toString(), value);
            });
            return out;
        }

        private static JsonNode value(ParquetSchema.Node leaf, Object stored) {
            Object v = ColumnChunkReader.logical(leaf, stored);
            if (v instanceof String s) {
                return JSON.stringNode(s);
            }
            if (v instanceof Integer i) {
                return JSON.numberNode(i);
            }
            if (v instanceof Long l) {
                return JSON.numberNode(l);
            }
            if (v instanceof Float f) {
                return JSON.numberNode(f);
            }
            if (v instanceof Double d) {
                return JSON.numberNode(d);
            }
            if (v instanceof Boolean b) {
                return JSON.booleanNode(b);
            }
            if (v instanceof BigDecimal d) {
                return JSON.numberNode(d);
            }
            if (v instanceof BigInteger b) {
                return JSON.numberNode(b);
            }
            return JSON.binaryNode((byte[]) v);
        }
    }
}
