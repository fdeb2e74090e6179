package dev.amalgam.fusion.data.parquet;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;
import org.xerial.snappy.Snappy;

/**
 * Decodes one column chunk: its pages' repetition levels, definition levels and values, one entry per level pair.
 *
 * <p>Supported: data pages v1 and v2 and a dictionary page; values PLAIN or dictionary-encoded ({@code
 * PLAIN_DICTIONARY}, {@code RLE_DICTIONARY}); levels in the RLE/bit-packed hybrid; codecs UNCOMPRESSED, SNAPPY,
 * GZIP, ZSTD. Anything else fails with a {@link ParquetFormatException} naming it.
 */
final class ColumnChunkReader {

    private static final String[] ENCODINGS = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
        "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    private static final String[] CODECS = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD",
        "LZ4_RAW"};
    private static final int PLAIN = 0;
    private static final int PLAIN_DICTIONARY = 2;
    private static final int RLE = 3;
    private static final int RLE_DICTIONARY = 8;

    /** The entries of a column chunk; {@code values[i]} is null where {@code def[i]} is below the column's maximum. */
    record Column(int[] rep, int[] def, Object[] values, int size) {
    }

    private final ParquetSchema.Node leaf;
    private final int maxDef;
    private final int maxRep;
    private final int codec;
    private Object[] dictionary;
    private int[] rep;
    private int[] def;
    private Object[] values;
    private int size;

    private ColumnChunkReader(ParquetSchema.Node leaf, int codec) {
        this.leaf = leaf;
        this.maxDef = leaf.defLevel;
        this.maxRep = leaf.repLevel;
        this.codec = codec;
    }

    /** Decodes the chunk {@code bytes} (from its first page to its end) holding {@code numValues} entries. */
    static Column read(ParquetSchema.Node leaf, ThriftCompact.Struct meta, ByteBuffer bytes) {
        int codec = meta.i32(4);
        if (codec != 0 && codec != 1 && codec != 2 && codec != 6) {
            String name = codec >= 0 && codec < CODECS.length ? CODECS[codec] : String.valueOf(codec);
            throw new ParquetFormatException("compression codec " + name
                    + " is not supported (UNCOMPRESSED, SNAPPY, GZIP, ZSTD are)");
        }
        long numValues = meta.i64(5);
        if (numValues < 0 || numValues > Integer.MAX_VALUE - 8) {
            throw new ParquetFormatException("a column chunk of " + numValues + " values");
        }
        ColumnChunkReader r = new ColumnChunkReader(leaf, codec);
        r.rep = new int[(int) numValues];
        r.def = new int[(int) numValues];
        r.values = new Object[(int) numValues];
        bytes.order(ByteOrder.LITTLE_ENDIAN);
        while (r.size < numValues) {
            if (!bytes.hasRemaining()) {
                throw new ParquetFormatException("the column chunk ends after " + r.size + " of " + numValues
                        + " values");
            }
            r.page(bytes);
        }
        return new Column(r.rep, r.def, r.values, r.size);
    }

    private void page(ByteBuffer bytes) {
        ThriftCompact.Struct header = new ThriftCompact(bytes).readStruct();
        int type = header.i32(1);
        int uncompressedSize = header.i32(2);
        int compressedSize = header.i32(3);
        if (compressedSize < 0 || compressedSize > bytes.remaining() || uncompressedSize < 0) {
            throw new ParquetFormatException("a page of " + compressedSize + " bytes where " + bytes.remaining()
                    + " remain");
        }
        ByteBuffer body = bytes.slice(bytes.position(), compressedSize).order(ByteOrder.LITTLE_ENDIAN);
        bytes.position(bytes.position() + compressedSize);
        switch (type) {
            case 0 -> dataPageV1(header.struct(5), decompress(body, uncompressedSize));
            case 2 -> dictionaryPage(header.struct(7), decompress(body, uncompressedSize));
            case 3 -> dataPageV2(header.struct(8), body, uncompressedSize);
            case 1 -> { } // index pages carry no data
            default -> throw new ParquetFormatException("page type " + type + " is not supported");
        }
    }

    private void dictionaryPage(ThriftCompact.Struct h, ByteBuffer body) {
        int encoding = h.i32(2);
        if (encoding != PLAIN && encoding != PLAIN_DICTIONARY) {
            throw unsupportedEncoding(encoding, "dictionary page");
        }
        int n = h.i32(1);
        dictionary = new Object[n];
        PlainDecoder plain = new PlainDecoder(body);
        for (int i = 0; i < n; i++) {
            dictionary[i] = plain.next();
        }
    }

    private void dataPageV1(ThriftCompact.Struct h, ByteBuffer body) {
        int n = h.i32(1);
        checkRoom(n);
        if (maxRep > 0) {
            levelEncoding(h.i32(4));
            int length = body.getInt();
            levels(body.slice(body.position(), length), maxRep, rep, n);
            body.position(body.position() + length);
        }
        if (maxDef > 0) {
            levelEncoding(h.i32(3));
            int length = body.getInt();
            levels(body.slice(body.position(), length), maxDef, def, n);
            body.position(body.position() + length);
        }
        values(h.i32(2), body.slice(body.position(), body.remaining()).order(ByteOrder.LITTLE_ENDIAN), n);
    }

    private void dataPageV2(ThriftCompact.Struct h, ByteBuffer body, int uncompressedSize) {
        int n = h.i32(1);
        checkRoom(n);
        int repLength = h.i32(6);
        int defLength = h.i32(5);
        if (repLength < 0 || defLength < 0 || repLength + defLength > body.remaining()) {
            throw new ParquetFormatException("corrupt data page v2: level lengths " + repLength + " + " + defLength);
        }
        if (maxRep > 0) {
            levels(body.slice(0, repLength), maxRep, rep, n);
        }
        if (maxDef > 0) {
            levels(body.slice(repLength, defLength), maxDef, def, n);
        }
        ByteBuffer rest = body.slice(repLength + defLength, body.remaining() - repLength - defLength);
        if (h.bool(7, true)) {
            rest = decompress(rest, uncompressedSize - repLength - defLength);
        }
        values(h.i32(4), rest.order(ByteOrder.LITTLE_ENDIAN), n);
    }

    private void checkRoom(int n) {
        if (n < 0 || n > rep.length - size) {
            throw new ParquetFormatException("the pages hold more values than the column chunk's " + rep.length);
        }
    }

    private static void levelEncoding(int encoding) {
        if (encoding != RLE) {
            throw unsupportedEncoding(encoding, "levels");
        }
    }

    private void levels(ByteBuffer in, int maxLevel, int[] into, int n) {
        RleBitPackedDecoder d = new RleBitPackedDecoder(in, bitWidth(maxLevel));
        for (int i = 0; i < n; i++) {
            int level = d.next();
            if (level > maxLevel) {
                throw new ParquetFormatException("a level " + level + " above the column's maximum " + maxLevel);
            }
            into[size + i] = level;
        }
    }

    /** Values for the entries of one page whose definition level is the maximum (the others are nulls). */
    private void values(int encoding, ByteBuffer in, int n) {
        if (encoding == PLAIN) {
            PlainDecoder plain = new PlainDecoder(in);
            for (int i = 0; i < n; i++) {
                if (def[size + i] == maxDef) {
                    values[size + i] = plain.next();
                }
            }
        } else if (encoding == PLAIN_DICTIONARY || encoding == RLE_DICTIONARY) {
            if (dictionary == null) {
                throw new ParquetFormatException("a dictionary-encoded page without a dictionary page");
            }
            int width = in.get() & 0xFF;
            if (width > 32) {
                throw new ParquetFormatException("a dictionary index bit width of " + width);
            }
            RleBitPackedDecoder d = new RleBitPackedDecoder(in, width);
            for (int i = 0; i < n; i++) {
                if (def[size + i] == maxDef) {
                    int index = d.next();
                    if (index < 0 || index >= dictionary.length) {
                        throw new ParquetFormatException("dictionary index " + index + " of " + dictionary.length);
                    }
                    values[size + i] = dictionary[index];
                }
            }
        } else {
            throw unsupportedEncoding(encoding, "values");
        }
        size += n;
    }

    private ByteBuffer decompress(ByteBuffer in, int uncompressedSize) {
        if (codec == 0) {
            return in;
        }
        byte[] compressed = new byte[in.remaining()];
        in.duplicate().get(compressed);
        byte[] out;
        try {
            out = switch (codec) {
                case 1 -> Snappy.uncompress(compressed);
                case 2 -> new GZIPInputStream(new ByteArrayInputStream(compressed)).readAllBytes();
                case 6 -> Zstd.decompress(compressed, uncompressedSize);
                default -> throw new IllegalStateException("codec " + codec);
            };
        } catch (IOException | RuntimeException e) {
            throw new ParquetFormatException("cannot decompress a " + CODECS[codec] + " page: " + e.getMessage(), e);
        }
        if (out.length != uncompressedSize) {
            throw new ParquetFormatException("a " + CODECS[codec] + " page decompressed to " + out.length
                    + " bytes, its header says " + uncompressedSize);
        }
        return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ParquetFormatException unsupportedEncoding(int encoding, String where) {
        String name = encoding >= 0 && encoding < ENCODINGS.length ? ENCODINGS[encoding] : String.valueOf(encoding);
        return new ParquetFormatException("encoding " + name + " (" + where + ") is not supported (PLAIN, "
                + "PLAIN_DICTIONARY, RLE_DICTIONARY values and RLE levels are)");
    }

    static int bitWidth(int max) {
        return 32 - Integer.numberOfLeadingZeros(max);
    }

    /** PLAIN values of the leaf's physical type, as the Java values {@link ParquetFile} turns into JSON. */
    private final class PlainDecoder {
        private final ByteBuffer in;
        private int bitIndex;
        private int bits;

        PlainDecoder(ByteBuffer in) {
            this.in = in.order(ByteOrder.LITTLE_ENDIAN);
        }

        Object next() {
            try {
                return switch (leaf.type) {
                    case ParquetSchema.BOOLEAN -> {
                        if (bitIndex == 0) {
                            bits = in.get() & 0xFF;
                        }
                        boolean b = (bits >>> bitIndex & 1) != 0;
                        bitIndex = (bitIndex + 1) & 7;
                        yield b;
                    }
                    case ParquetSchema.INT32 -> in.getInt();
                    case ParquetSchema.INT64 -> in.getLong();
                    case ParquetSchema.FLOAT -> in.getFloat();
                    case ParquetSchema.DOUBLE -> in.getDouble();
                    case ParquetSchema.BYTE_ARRAY -> {
                        int n = in.getInt();
                        if (n < 0 || n > in.remaining()) {
                            throw new ParquetFormatException("a BYTE_ARRAY value of " + n + " bytes where "
                                    + in.remaining() + " remain");
                        }
                        byte[] b = new byte[n];
                        in.get(b);
                        yield b;
                    }
                    case ParquetSchema.FIXED_LEN_BYTE_ARRAY -> {
                        byte[] b = new byte[leaf.typeLength];
                        in.get(b);
                        yield b;
                    }
                    default -> throw new ParquetFormatException("physical type "
                            + ParquetSchema.TYPE_NAMES[leaf.type] + " is not supported");
                };
            } catch (java.nio.BufferUnderflowException e) {
                throw new ParquetFormatException("a page ends before its values");
            }
        }
    }

    /** The Java value of a stored value under the leaf's logical type: a String, Number, Boolean or byte[]. */
    static Object logical(ParquetSchema.Node leaf, Object v) {
        String a = leaf.annotation;
        if (v instanceof byte[] b) {
            if ("STRING".equals(a) || "ENUM".equals(a) || "JSON".equals(a)) {
                return new String(b, StandardCharsets.UTF_8);
            }
            if ("DECIMAL".equals(a)) {
                return new BigDecimal(new BigInteger(b), leaf.scale);
            }
            return b;
        }
        if ("DECIMAL".equals(a) && (v instanceof Integer || v instanceof Long)) {
            return BigDecimal.valueOf(((Number) v).longValue(), leaf.scale);
        }
        if (leaf.unsigned && v instanceof Integer i) {
            return Integer.toUnsignedLong(i);
        }
        if (leaf.unsigned && v instanceof Long l) {
            return new BigInteger(Long.toUnsignedString(l));
        }
        return v;
    }
}
