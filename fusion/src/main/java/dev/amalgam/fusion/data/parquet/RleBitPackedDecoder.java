package dev.amalgam.fusion.data.parquet;

import java.nio.ByteBuffer;

/**
 * Parquet's RLE / bit-packing hybrid: a sequence of runs, each led by a ULEB128 header. An even header {@code h} is
 * an RLE run: the next {@code ceil(bitWidth / 8)} bytes (little-endian) hold a value repeated {@code h >> 1} times.
 * An odd header is a bit-packed run of {@code (h >> 1) * 8} values, {@code bitWidth} bits each, packed from the
 * least significant bit of each byte on. Used for repetition/definition levels and dictionary indices.
 */
final class RleBitPackedDecoder {

    private final ByteBuffer in;
    private final int bitWidth;
    private int rleLeft;
    private int rleValue;
    private int packedLeft;
    private long packedBits;
    private int packedBitCount;

    RleBitPackedDecoder(ByteBuffer in, int bitWidth) {
        this.in = in;
        this.bitWidth = bitWidth;
    }

    int next() {
        if (bitWidth == 0) {
            return 0; // a column without levels of this kind: every level is 0
        }
        while (rleLeft == 0 && packedLeft == 0) {
            if (!in.hasRemaining()) {
                throw new ParquetFormatException("RLE/bit-packed data ends before its values");
            }
            long header = uleb128();
            if ((header & 1) == 0) {
                rleLeft = (int) Math.min(header >>> 1, Integer.MAX_VALUE);
                int v = 0;
                for (int i = 0; i < (bitWidth + 7) / 8; i++) {
                    v |= (in.get() & 0xFF) << (8 * i);
                }
                rleValue = v;
            } else {
                packedLeft = (int) Math.min((header >>> 1) * 8, Integer.MAX_VALUE);
                packedBits = 0;
                packedBitCount = 0;
            }
        }
        if (rleLeft > 0) {
            rleLeft--;
            return rleValue;
        }
        while (packedBitCount < bitWidth) {
            // a writer may cut the last group's padding short: missing bytes read as 0
            long b = in.hasRemaining() ? in.get() & 0xFF : 0;
            packedBits |= b << packedBitCount;
            packedBitCount += 8;
        }
        int v = (int) (packedBits & ((1L << bitWidth) - 1));
        packedBits >>>= bitWidth;
        packedBitCount -= bitWidth;
        packedLeft--;
        return v;
    }

    private long uleb128() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = in.get() & 0xFF;
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new ParquetFormatException("an RLE run header longer than 9 bytes");
    }
}
