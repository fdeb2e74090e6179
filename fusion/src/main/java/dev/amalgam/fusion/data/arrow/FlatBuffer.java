package dev.amalgam.fusion.data.arrow;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Read access to a FlatBuffers table, the encoding of Arrow IPC metadata: a table starts with a signed offset back
 * to its vtable, whose 16-bit entries give each field's offset in the table (0: absent, the default applies).
 * Offsets to tables, vectors and strings are unsigned 32-bit values relative to where they are stored.
 */
final class FlatBuffer {

    private final ByteBuffer bb;
    private final int table;
    private final int vtable;
    private final int vtableSize;

    private FlatBuffer(ByteBuffer bb, int table) {
        this.bb = bb;
        this.table = table;
        this.vtable = table - bb.getInt(table);
        this.vtableSize = Short.toUnsignedInt(bb.getShort(vtable));
        if (vtable < 0 || vtable + vtableSize > bb.limit() || vtableSize < 4) {
            throw new ArrowFormatException("corrupt metadata: a vtable outside the message");
        }
    }

    /** The root table of a buffer. */
    static FlatBuffer root(ByteBuffer bb) {
        ByteBuffer le = bb.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        return new FlatBuffer(le, le.getInt(0));
    }

    /** The position of field {@code index}'s value, or 0 when it is absent. */
    private int field(int index) {
        int entry = 4 + 2 * index;
        return entry + 2 > vtableSize ? 0 : Short.toUnsignedInt(bb.getShort(vtable + entry));
    }

    boolean has(int index) {
        return field(index) != 0;
    }

    int uint8(int index, int fallback) {
        int f = field(index);
        return f == 0 ? fallback : Byte.toUnsignedInt(bb.get(table + f));
    }

    int int16(int index, int fallback) {
        int f = field(index);
        return f == 0 ? fallback : bb.getShort(table + f);
    }

    int int32(int index, int fallback) {
        int f = field(index);
        return f == 0 ? fallback : bb.getInt(table + f);
    }

    long int64(int index, long fallback) {
        int f = field(index);
        return f == 0 ? fallback : bb.getLong(table + f);
    }

    boolean bool(int index, boolean fallback) {
        int f = field(index);
        return f == 0 ? fallback : bb.get(table + f) != 0;
    }

    private int indirect(int at) {
        return at + bb.getInt(at);
    }

    /** A sub-table, or null. */
    FlatBuffer table(int index) {
        int f = field(index);
        return f == 0 ? null : new FlatBuffer(bb, indirect(table + f));
    }

    String string(int index) {
        int f = field(index);
        if (f == 0) {
            return null;
        }
        int s = indirect(table + f);
        byte[] b = new byte[bb.getInt(s)];
        bb.get(s + 4, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** The length of a vector field (0 when absent). */
    int vectorLength(int index) {
        int f = field(index);
        return f == 0 ? 0 : bb.getInt(indirect(table + f));
    }

    /** Element {@code i} of a vector of tables. */
    FlatBuffer tableAt(int index, int i) {
        int element = indirect(table + field(index)) + 4 + 4 * i;
        return new FlatBuffer(bb, indirect(element));
    }

    /** The 64-bit word {@code word} of element {@code i} of a vector of structs of {@code structSize} bytes. */
    long structLong(int index, int i, int structSize, int word) {
        return bb.getLong(indirect(table + field(index)) + 4 + structSize * i + 8 * word);
    }
}
