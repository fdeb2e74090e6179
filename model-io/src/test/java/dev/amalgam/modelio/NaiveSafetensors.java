package dev.amalgam.modelio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A second, deliberately naive safetensors writer for tests: the caller types the header JSON by
 * hand and assembles the data bytes itself, so the reader is checked against the format, not
 * against our own writer.
 */
final class NaiveSafetensors {

    private NaiveSafetensors() {
    }

    /** Writes u64 LE header length, the header text (space-padded to 8 when asked), then data. */
    static Path write(Path file, String headerJson, byte[] data, boolean pad) {
        byte[] h = headerJson.getBytes(StandardCharsets.UTF_8);
        int n = pad ? (h.length + 7) / 8 * 8 : h.length;
        ByteBuffer b = ByteBuffer.allocate(8 + n + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(n).put(h);
        for (int i = h.length; i < n; i++) {
            b.put((byte) ' ');
        }
        b.put(data);
        return writeBytes(file, b.array());
    }

    static Path write(Path file, String headerJson, byte[] data) {
        return write(file, headerJson, data, true);
    }

    static Path writeBytes(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Little-endian bytes builder. */
    static final class Bytes {
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        Bytes u8(int... v) {
            for (int x : v) {
                buf.put((byte) x);
            }
            return this;
        }

        Bytes i16(int... v) {
            for (int x : v) {
                buf.putShort((short) x);
            }
            return this;
        }

        Bytes i32(int... v) {
            for (int x : v) {
                buf.putInt(x);
            }
            return this;
        }

        Bytes i64(long... v) {
            for (long x : v) {
                buf.putLong(x);
            }
            return this;
        }

        Bytes f32(float... v) {
            for (float x : v) {
                buf.putFloat(x);
            }
            return this;
        }

        Bytes f64(double... v) {
            for (double x : v) {
                buf.putDouble(x);
            }
            return this;
        }

        int size() {
            return buf.position();
        }

        byte[] toArray() {
            byte[] out = new byte[buf.position()];
            buf.duplicate().flip().get(out);
            return out;
        }
    }
}
