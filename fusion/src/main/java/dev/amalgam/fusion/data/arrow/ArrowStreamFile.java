package dev.amalgam.fusion.data.arrow;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads the rows of an Arrow IPC <em>stream</em> file as JSON objects: what {@code datasets.save_to_disk} writes
 * ({@code data-00000-of-00001.arrow}, pyarrow's {@code RecordBatchStreamWriter}). The stream is a Schema message
 * then RecordBatch messages, each an 8-byte-aligned FlatBuffers header (after the {@code 0xFFFFFFFF} continuation
 * marker, or without it in the pre-1.0 layout) followed by its body of buffers; an end-of-stream marker or the end
 * of the file closes it.
 *
 * <p>Supported types: Null, Bool, Int (8 to 64 bits, signed or not), FloatingPoint (single, double), Utf8 and
 * LargeUtf8 (text), Binary, LargeBinary and FixedSizeBinary, List, LargeList, FixedSizeList, Struct; a struct is an
 * object, a list an array, a null a JSON null. Not supported, each failing with an {@link ArrowFormatException} naming it: other types
 * (half floats, decimals, dates and times, maps, unions, views, run-end encoded), dictionary-encoded fields,
 * compressed bodies, big-endian data, and the Arrow <em>file</em> format (magic {@code ARROW1}). One record batch
 * is decoded at a time from the memory-mapped file.
 */
public final class ArrowStreamFile {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final String[] TYPE_NAMES = {"NONE", "Null", "Int", "FloatingPoint", "Binary", "Utf8", "Bool",
        "Decimal", "Date", "Time", "Timestamp", "Interval", "List", "Struct", "Union", "FixedSizeBinary",
        "FixedSizeList", "Map", "Duration", "LargeBinary", "LargeUtf8", "LargeList", "RunEndEncoded", "BinaryView",
        "Utf8View", "ListView", "LargeListView"};
    private static final int SCHEMA = 1;
    private static final int DICTIONARY_BATCH = 2;
    private static final int RECORD_BATCH = 3;

    /** Receives each row with its 0-based index in the file. */
    @FunctionalInterface
    public interface RowSink {
        void accept(long index, ObjectNode row);
    }

    private ArrowStreamFile() {
    }

    /** A field of the schema: its name, type id, type table and children. */
    private record Field(String name, int type, FlatBuffer typeTable, List<Field> children) {
    }

    /**
     * Streams every row of {@code file} to {@code sink}; returns the number of rows. A file outside the supported
     * subset fails with an {@link ArrowFormatException} whose message starts with the file.
     */
    public static long read(Path file, RowSink sink) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            long pos = 0;
            List<Field> schema = null;
            long index = 0;
            while (pos + 4 <= size) {
                ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(head, pos);
                head.flip();
                if (pos == 0 && head.remaining() >= 6
                        && new String(head.array(), 0, 6, StandardCharsets.US_ASCII).equals("ARROW1")) {
                    throw new ArrowFormatException(file + ": the Arrow file format (ARROW1) is not supported, only "
                            + "the IPC stream format that datasets.save_to_disk writes");
                }
                int length = head.getInt();
                pos += 4;
                if (length == -1) { // continuation marker, then the length
                    if (head.remaining() < 4) {
                        throw new ArrowFormatException(file + ": the stream ends inside a message header");
                    }
                    length = head.getInt();
                    pos += 4;
                }
                if (length == 0) {
                    break; // end of stream
                }
                if (length < 0 || pos + length > size) {
                    throw new ArrowFormatException(file + ": corrupt stream: a message of " + length + " bytes at "
                            + (pos - 8));
                }
                ByteBuffer meta = ch.map(FileChannel.MapMode.READ_ONLY, pos, length);
                pos += length;
                FlatBuffer message;
                int headerType;
                long bodyLength;
                try {
                    message = FlatBuffer.root(meta);
                    headerType = message.uint8(1, 0);
                    bodyLength = message.int64(3, 0);
                } catch (RuntimeException e) {
                    throw wrap(file, e);
                }
                if (bodyLength < 0 || pos + bodyLength > size || bodyLength > Integer.MAX_VALUE) {
                    throw new ArrowFormatException(file + ": corrupt stream: a body of " + bodyLength + " bytes");
                }
                ByteBuffer body = ch.map(FileChannel.MapMode.READ_ONLY, pos, bodyLength)
                        .order(ByteOrder.LITTLE_ENDIAN);
                pos += bodyLength;
                List<ObjectNode> rows = new ArrayList<>();
                try {
                    if (headerType == SCHEMA) {
                        schema = schema(message.table(2));
                    } else if (headerType == DICTIONARY_BATCH) {
                        throw new ArrowFormatException("dictionary-encoded columns are not supported");
                    } else if (headerType == RECORD_BATCH) {
                        if (schema == null) {
                            throw new ArrowFormatException("a record batch before the schema");
                        }
                        rows = batch(schema, message.table(2), body);
                    } else {
                        throw new ArrowFormatException("message type " + headerType + " is not supported");
                    }
                } catch (ArrowFormatException e) {
                    throw wrap(file, e);
                } catch (IndexOutOfBoundsException | IllegalArgumentException | java.nio.BufferUnderflowException e) {
                    throw wrap(file, e);
                }
                for (ObjectNode row : rows) {
                    sink.accept(index++, row);
                }
            }
            if (schema == null) {
                throw new ArrowFormatException(file + ": not an Arrow IPC stream (no schema message)");
            }
            return index;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The rows of one record batch. */
    private static List<ObjectNode> batch(List<Field> schema, FlatBuffer batch, ByteBuffer body) {
        if (batch.has(3)) {
            throw new ArrowFormatException("compressed record batches are not supported");
        }
        long rows = batch.int64(0, 0);
        Batch b = new Batch(batch, body);
        List<Column> columns = new ArrayList<>();
        for (Field f : schema) {
            columns.add(b.column(f));
        }
        List<ObjectNode> out = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            ObjectNode row = JSON.objectNode();
            for (int c = 0; c < columns.size(); c++) {
                row.set(schema.get(c).name(), columns.get(c).get(r));
            }
            out.add(row);
        }
        return out;
    }

    private static ArrowFormatException wrap(Path file, RuntimeException e) {
        String message = e instanceof ArrowFormatException ? e.getMessage() : "corrupt stream (" + e + ")";
        return new ArrowFormatException(file + ": " + message, e);
    }

    private static List<Field> schema(FlatBuffer schema) {
        if (schema.int16(0, 0) != 0) {
            throw new ArrowFormatException("big-endian data is not supported");
        }
        return fields(schema, 1);
    }

    private static List<Field> fields(FlatBuffer parent, int vector) {
        List<Field> out = new ArrayList<>();
        for (int i = 0; i < parent.vectorLength(vector); i++) {
            FlatBuffer f = parent.tableAt(vector, i);
            String name = f.string(0);
            if (f.has(4)) {
                throw new ArrowFormatException("field " + name + ": dictionary-encoded columns are not supported");
            }
            int type = f.uint8(2, 0);
            out.add(new Field(name == null ? "" : name, type, f.table(3), fields(f, 5)));
        }
        return out;
    }

    /** A decoded column: the JSON value of each row. */
    @FunctionalInterface
    private interface Column {
        JsonNode get(int i);
    }

    /** The nodes and buffers of one record batch, consumed depth-first as the schema's fields are. */
    private static final class Batch {
        private final FlatBuffer batch;
        private final ByteBuffer body;
        private int node;
        private int buffer;

        Batch(FlatBuffer batch, ByteBuffer body) {
            this.batch = batch;
            this.body = body;
        }

        private long nodeLength() {
            if (node >= batch.vectorLength(1)) {
                throw new ArrowFormatException("the record batch has fewer field nodes than the schema fields");
            }
            return batch.structLong(1, node++, 16, 0);
        }

        private ByteBuffer nextBuffer() {
            if (buffer >= batch.vectorLength(2)) {
                throw new ArrowFormatException("the record batch has fewer buffers than its fields need");
            }
            long offset = batch.structLong(2, buffer, 16, 0);
            long length = batch.structLong(2, buffer++, 16, 1);
            if (offset < 0 || length < 0 || offset + length > body.limit()) {
                throw new ArrowFormatException("a buffer outside the message body");
            }
            return body.slice((int) offset, (int) length).order(ByteOrder.LITTLE_ENDIAN);
        }

        Column column(Field f) {
            String name = f.type() >= 0 && f.type() < TYPE_NAMES.length ? TYPE_NAMES[f.type()] : "type " + f.type();
            try {
                return decode(f, name);
            } catch (ArrowFormatException e) {
                throw e.getMessage().startsWith("field ") ? e
                        : new ArrowFormatException("field " + f.name() + ": " + e.getMessage(), e);
            }
        }

        private Column decode(Field f, String typeName) {
            int length = (int) nodeLength();
            if (f.type() == 1) { // Null: no buffers
                return i -> JSON.nullNode();
            }
            ByteBuffer validity = nextBuffer();
            Column values = switch (f.type()) {
                case 2 -> integers(f.typeTable(), nextBuffer());
                case 3 -> floats(f.typeTable(), nextBuffer());
                case 6 -> {
                    ByteBuffer bits = nextBuffer();
                    yield i -> JSON.booleanNode(bit(bits, i));
                }
                case 4, 5, 19, 20 -> {
                    boolean large = f.type() >= 19;
                    boolean text = f.type() == 5 || f.type() == 20;
                    ByteBuffer offsets = nextBuffer();
                    ByteBuffer data = nextBuffer();
                    yield i -> {
                        int start = offset(offsets, i, large);
                        int end = offset(offsets, i + 1, large);
                        byte[] b = new byte[end - start];
                        data.get(start, b);
                        return text ? JSON.stringNode(new String(b, StandardCharsets.UTF_8)) : JSON.binaryNode(b);
                    };
                }
                case 15 -> {
                    int width = f.typeTable().int32(0, 0);
                    ByteBuffer data = nextBuffer();
                    yield i -> {
                        byte[] b = new byte[width];
                        data.get(i * width, b);
                        return JSON.binaryNode(b);
                    };
                }
                case 12, 21 -> {
                    boolean large = f.type() == 21;
                    ByteBuffer offsets = nextBuffer();
                    Column child = column(only(f));
                    yield i -> {
                        ArrayNode a = JSON.arrayNode();
                        for (int k = offset(offsets, i, large); k < offset(offsets, i + 1, large); k++) {
                            a.add(child.get(k));
                        }
                        return a;
                    };
                }
                case 16 -> {
                    int size = f.typeTable().int32(0, 0);
                    Column child = column(only(f));
                    yield i -> {
                        ArrayNode a = JSON.arrayNode();
                        for (int k = i * size; k < (i + 1) * size; k++) {
                            a.add(child.get(k));
                        }
                        return a;
                    };
                }
                case 13 -> {
                    List<Column> children = new ArrayList<>();
                    for (Field c : f.children()) {
                        children.add(column(c));
                    }
                    yield i -> {
                        ObjectNode o = JSON.objectNode();
                        for (int c = 0; c < children.size(); c++) {
                            o.set(f.children().get(c).name(), children.get(c).get(i));
                        }
                        return o;
                    };
                }
                default -> throw new ArrowFormatException("type " + typeName + " is not supported");
            };
            return i -> {
                if (i < 0 || i >= length) {
                    throw new ArrowFormatException("field " + f.name() + ": index " + i + " of " + length);
                }
                return validity.limit() > 0 && !bit(validity, i) ? JSON.nullNode() : values.get(i);
            };
        }

        private static Field only(Field f) {
            if (f.children().size() != 1) {
                throw new ArrowFormatException("a list needs exactly one child field");
            }
            return f.children().get(0);
        }

        private static boolean bit(ByteBuffer bits, int i) {
            return (bits.get(i >>> 3) >>> (i & 7) & 1) != 0;
        }

        private static int offset(ByteBuffer offsets, int i, boolean large) {
            long v = large ? offsets.getLong(8 * i) : offsets.getInt(4 * i);
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw new ArrowFormatException("an offset of " + v);
            }
            return (int) v;
        }

        private static Column integers(FlatBuffer type, ByteBuffer data) {
            int width = type.int32(0, 0);
            boolean signed = type.bool(1, false);
            return switch (width) {
                case 8 -> i -> JSON.numberNode(signed ? data.get(i) : Byte.toUnsignedInt(data.get(i)));
                case 16 -> i -> JSON.numberNode(signed ? data.getShort(2 * i)
                        : Short.toUnsignedInt(data.getShort(2 * i)));
                case 32 -> i -> signed ? JSON.numberNode(data.getInt(4 * i))
                        : JSON.numberNode(Integer.toUnsignedLong(data.getInt(4 * i)));
                case 64 -> i -> signed ? JSON.numberNode(data.getLong(8 * i))
                        : JSON.numberNode(new BigInteger(Long.toUnsignedString(data.getLong(8 * i))));
                default -> throw new ArrowFormatException("an Int of " + width + " bits");
            };
        }

        private static Column floats(FlatBuffer type, ByteBuffer data) {
            int precision = type.int16(0, 0);
            return switch (precision) {
                case 1 -> i -> JSON.numberNode(data.getFloat(4 * i));
                case 2 -> i -> JSON.numberNode(data.getDouble(8 * i));
                default -> throw new ArrowFormatException("type FloatingPoint(HALF) is not supported");
            };
        }
    }
}
