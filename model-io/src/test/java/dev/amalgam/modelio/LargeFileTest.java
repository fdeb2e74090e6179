package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sparse file of about 4.6 GB (only a few pages are ever touched): an F32 tensor spanning three
 * 1 GiB mapping pieces at an odd offset, and a U8 tensor of more than 2^31 elements.
 */
class LargeFileTest {

    @TempDir
    Path dir;

    private static final long F32_COUNT = 600_000_000L;           // 2.4 GB
    private static final long U8_COUNT = (1L << 31) + 5;          // too big for one float[]

    @Test
    void readsAcrossOneGibPiecesInAFileOverFourGib() throws IOException {
        long f32Begin = 3;
        long f32End = f32Begin + F32_COUNT * 4;
        long u8End = f32End + U8_COUNT;
        String header = "{\"b\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[" + F32_COUNT + "],\"data_offsets\":[3," + f32End + "]},"
                + "\"y\":{\"dtype\":\"U8\",\"shape\":[" + U8_COUNT + "],\"data_offsets\":[" + f32End + "," + u8End + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        long data = 8 + h.length;
        long piece = (1L << 30) / 4;                               // F32 elements per 1 GiB piece
        long[] probes = {0, piece - 1, piece, 2 * piece - 1, 2 * piece, F32_COUNT - 1};
        Path file = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            raf.write(h);
            for (long i : probes) {
                raf.seek(data + f32Begin + i * 4);
                raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(i + 0.5f).array());
            }
            raf.seek(data + u8End - 1);
            raf.write(200);
            raf.setLength(data + u8End);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Tensor x = f.tensor("x");
            for (long i : probes) {
                assertThat(x.getFloat(i)).isEqualTo(i + 0.5f);
            }
            float[] across = new float[4];
            x.readFloats(piece - 2, across, 0, 4);
            assertThat(across).containsExactly(0f, piece - 1 + 0.5f, piece + 0.5f, 0f);
            assertThatThrownBy(x::rawBytes).hasMessageContaining("readFloats");
            Tensor y = f.tensor("y");
            assertThat(y.getFloat(U8_COUNT - 1)).isEqualTo(200f);
            assertThatThrownBy(y::toFloatArray).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("too many for one float[]");
        }
    }
}
