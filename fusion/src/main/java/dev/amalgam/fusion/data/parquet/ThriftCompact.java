package dev.amalgam.fusion.data.parquet;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A reader of Apache Thrift's compact protocol, the encoding of Parquet's footer and page headers. A struct is read
 * into a generic {@link Struct} (field id -> value) so that fields this reader does not use are skipped by
 * construction; {@code parquet.thrift} gives the ids.
 *
 * <p>Values: booleans as {@link Boolean}, i8/i16/i32 as {@link Integer}, i64 as {@link Long}, double as
 * {@link Double}, binary as {@code byte[]}, list/set as {@link List}, map as {@link Map}, struct as {@link Struct}.
 */
final class ThriftCompact {

    private static final int BOOLEAN_TRUE = 1;
    private static final int BOOLEAN_FALSE = 2;
    private static final int BYTE = 3;
    private static final int I16 = 4;
    private static final int I32 = 5;
    private static final int I64 = 6;
    private static final int DOUBLE = 7;
    private static final int BINARY = 8;
    private static final int LIST = 9;
    private static final int SET = 10;
    private static final int MAP = 11;
    private static final int STRUCT = 12;
    private static final int MAX_DEPTH = 64;

    private final ByteBuffer in;

    /** Reads from {@code in}'s position on; the position ends after the last struct read. */
    ThriftCompact(ByteBuffer in) {
        this.in = in.order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    /** A Thrift struct: its fields by id. */
    record Struct(Map<Integer, Object> fields) {

        boolean has(int id) {
            return fields.containsKey(id);
        }

        int i32(int id) {
            Object v = fields.get(id);
            if (v == null) {
                throw new ParquetFormatException("a required Thrift field " + id + " is missing");
            }
            return ((Number) v).intValue();
        }

        int i32(int id, int fallback) {
            Object v = fields.get(id);
            return v == null ? fallback : ((Number) v).intValue();
        }

        long i64(int id) {
            Object v = fields.get(id);
            if (v == null) {
                throw new ParquetFormatException("a required Thrift field " + id + " is missing");
            }
            return ((Number) v).longValue();
        }

        long i64(int id, long fallback) {
            Object v = fields.get(id);
            return v == null ? fallback : ((Number) v).longValue();
        }

        boolean bool(int id, boolean fallback) {
            Object v = fields.get(id);
            return v == null ? fallback : (Boolean) v;
        }

        String string(int id) {
            Object v = fields.get(id);
            return v == null ? null : new String((byte[]) v, StandardCharsets.UTF_8);
        }

        Struct struct(int id) {
            return (Struct) fields.get(id);
        }

        @SuppressWarnings("unchecked")
        <T> List<T> list(int id) {
            Object v = fields.get(id);
            return v == null ? List.of() : (List<T>) v;
        }
    }

    /** The struct at the current position. */
    Struct readStruct() {
        try {
            return struct(0);
        } catch (java.nio.BufferUnderflowException | ClassCastException | IndexOutOfBoundsException e) {
            throw new ParquetFormatException("corrupt Thrift metadata (" + e + ")");
        }
    }

    private Struct struct(int depth) {
        if (depth > MAX_DEPTH) {
            throw new ParquetFormatException("Thrift metadata nested deeper than " + MAX_DEPTH);
        }
        Map<Integer, Object> fields = new HashMap<>();
        int lastId = 0;
        while (true) {
            int header = in.get() & 0xFF;
            int type = header & 0x0F;
            if (type == 0) {
                return new Struct(fields);
            }
            int delta = header >>> 4;
            int id = delta == 0 ? (short) zigzag32(varint()) : lastId + delta;
            lastId = id;
            Object value = type == BOOLEAN_TRUE ? Boolean.TRUE : type == BOOLEAN_FALSE ? Boolean.FALSE
                    : value(type, depth);
            fields.put(id, value);
        }
    }

    private Object value(int type, int depth) {
        return switch (type) {
            case BYTE -> (int) in.get();
            case I16, I32 -> zigzag32(varint());
            case I64 -> zigzag64(varint());
            case DOUBLE -> Double.longBitsToDouble(in.getLong());
            case BINARY -> {
                long n = varint();
                if (n < 0 || n > in.remaining()) {
                    throw new ParquetFormatException("corrupt Thrift metadata: a string of " + n + " bytes");
                }
                byte[] b = new byte[(int) n];
                in.get(b);
                yield b;
            }
            case LIST, SET -> {
                int h = in.get() & 0xFF;
                long n = h >>> 4 == 15 ? varint() : h >>> 4;
                int elementType = h & 0x0F;
                if (n < 0 || n > in.remaining() + 1L) {
                    throw new ParquetFormatException("corrupt Thrift metadata: a list of " + n + " elements");
                }
                List<Object> list = new ArrayList<>((int) n);
                for (long i = 0; i < n; i++) {
                    list.add(elementType == BOOLEAN_TRUE || elementType == BOOLEAN_FALSE ? in.get() == BOOLEAN_TRUE
                            : value(elementType, depth + 1));
                }
                yield list;
            }
            case MAP -> {
                long n = varint();
                Map<Object, Object> map = new HashMap<>();
                if (n > 0) {
                    int kv = in.get() & 0xFF;
                    for (long i = 0; i < n; i++) {
                        Object k = boolOr(kv >>> 4, depth);
                        map.put(k, boolOr(kv & 0x0F, depth));
                    }
                }
                yield map;
            }
            case STRUCT -> struct(depth + 1);
            default -> throw new ParquetFormatException("corrupt Thrift metadata: unknown type " + type);
        };
    }

    private Object boolOr(int type, int depth) {
        return type == BOOLEAN_TRUE || type == BOOLEAN_FALSE ? in.get() == BOOLEAN_TRUE : value(type, depth + 1);
    }

    private long varint() {
        long result = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            int b = in.get() & 0xFF;
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new ParquetFormatException("corrupt Thrift metadata: a varint longer than 10 bytes");
    }

    private static int zigzag32(long n) {
        int v = (int) n;
        return (v >>> 1) ^ -(v & 1);
    }

    private static long zigzag64(long n) {
        return (n >>> 1) ^ -(n & 1);
    }
}
