package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads files assembled byte by byte (see {@link NaiveSafetensors}), one per dtype family. */
class SafetensorsFileTest {

    @TempDir
    Path dir;

    @Test
    void readsEveryDtypeFromAHandAssembledFile() {
        NaiveSafetensors.Bytes d = new NaiveSafetensors.Bytes();
        d.u8(0, 1, 2);                              // BOOL [3]        0..3
        d.u8(255, 7);                               // U8 [2]          3..5
        d.u8(0xFF, 0x80);                           // I8 [2]          5..7
        d.i16(-300);                                // I16 [1]         7..9
        d.i16(0xFFFF);                              // U16 [1]         9..11
        d.i16(0x3C00, 0xC000, 0x0001);              // F16 [3]         11..17
        d.i16(0x3F80, 0x4049);                      // BF16 [2]        17..21
        d.i32(-70000);                              // I32 [1]         21..25
        d.i32(0xFFFFFFFF);                          // U32 [1]         25..29
        d.f32(1.5f, -2.25f, 3e-3f, 4f, 5f, 6f);    // F32 [2, 3]      29..53
        d.f64(0.1);                                 // F64 []          53..61
        d.i64(-5_000_000_000L);                     // I64 [1]         61..69
        d.i64(-1L);                                 // U64 [1]         69..77
        d.u8(0x7E, 0x38);                           // F8_E4M3 [2]     77..79
        d.u8(0x7B, 0xBC);                           // F8_E5M2 [2]     79..81
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                // listed out of offset order on purpose
                + "\"f32\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[29,53]},"
                + "\"bool\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]},"
                + "\"u8\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[3,5]},"
                + "\"i8\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[5,7]},"
                + "\"i16\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[7,9]},"
                + "\"u16\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[9,11]},"
                + "\"f16\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[11,17]},"
                + "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[17,21]},"
                + "\"i32\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[21,25]},"
                + "\"u32\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[25,29]},"
                + "\"f64\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[53,61]},"
                + "\"i64\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[61,69]},"
                + "\"u64\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[69,77]},"
                + "\"e4m3\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[77,79]},"
                + "\"e5m2\":{\"dtype\":\"F8_E5M2\",\"shape\":[2],\"data_offsets\":[79,81]},"
                + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[81,81]}}";
        Path file = NaiveSafetensors.write(dir.resolve("all.safetensors"), header, d.toArray(), false);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).isEqualTo(Map.of("format", "pt"));
            assertThat(f.tensorInfos()).extracting(TensorInfo::name).containsExactly(
                    "bool", "u8", "i8", "i16", "u16", "f16", "bf16", "i32", "u32", "f32", "f64", "i64", "u64",
                    "e4m3", "e5m2", "empty");
            assertThat(f.names()).hasSize(16).contains("f32");
            assertThat(f.contains("nope")).isFalse();

            assertThat(f.tensor("bool").toFloatArray()).containsExactly(0f, 1f, 1f);
            assertThat(f.tensor("u8").toFloatArray()).containsExactly(255f, 7f);
            assertThat(f.tensor("i8").toFloatArray()).containsExactly(-1f, -128f);
            assertThat(f.tensor("i16").getFloat(0)).isEqualTo(-300f);
            assertThat(f.tensor("u16").getFloat(0)).isEqualTo(65535f);
            assertThat(f.tensor("f16").toFloatArray()).containsExactly(1f, -2f, 0x1p-24f);
            assertThat(f.tensor("bf16").toFloatArray()).containsExactly(1f, 3.140625f);
            assertThat(f.tensor("i32").getFloat(0)).isEqualTo(-70000f);
            assertThat(f.tensor("u32").getFloat(0)).isEqualTo(4294967295f);
            Tensor f32 = f.tensor("f32");
            assertThat(f32.shape()).containsExactly(2, 3);
            assertThat(f32.numel()).isEqualTo(6);
            assertThat(f32.toFloatArray()).containsExactly(1.5f, -2.25f, 3e-3f, 4f, 5f, 6f);
            assertThat(f32.getFloat(4)).isEqualTo(5f);
            float[] part = new float[5];
            f32.readFloats(2, part, 1, 3);
            assertThat(part).containsExactly(0f, 3e-3f, 4f, 5f, 0f);
            Tensor scalar = f.tensor("f64");
            assertThat(scalar.shape()).isEmpty();
            assertThat(scalar.numel()).isEqualTo(1);
            assertThat(scalar.getFloat(0)).isEqualTo(0.1f);
            assertThat(f.tensor("i64").getFloat(0)).isEqualTo(-5e9f);
            assertThat(f.tensor("u64").getFloat(0)).isEqualTo(1.8446744e19f);
            assertThat(f.tensor("e4m3").toFloatArray()).containsExactly(448f, 1f);
            assertThat(f.tensor("e5m2").toFloatArray()).containsExactly(57344f, -1f);
            Tensor empty = f.tensor("empty");
            assertThat(empty.numel()).isZero();
            assertThat(empty.toFloatArray()).isEmpty();
            assertThat(empty.rawBytes().remaining()).isZero();

            ByteBuffer raw = f.tensor("bf16").rawBytes();
            assertThat(raw.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
            assertThat(raw.isReadOnly()).isTrue();
            assertThat(raw.remaining()).isEqualTo(4);
            assertThat(raw.getShort(0)).isEqualTo((short) 0x3F80);
            assertThat(f.info("f32").begin()).isEqualTo(29);
            assertThatThrownBy(() -> f32.getFloat(6)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> f32.readFloats(4, new float[3], 0, 3))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> f.tensor("missing")).hasMessageContaining("missing");
        }
    }

    @Test
    void tensorsSplitIntoSeveralMappedPiecesReadAcrossTheBoundaries() {
        // BOOL first so the F16/F32 tensors start at odd offsets; 16-byte pieces force many boundaries
        NaiveSafetensors.Bytes d = new NaiveSafetensors.Bytes();
        d.u8(1, 0, 1);
        float[] f32 = new float[37];
        short[] f16 = new short[29];
        for (int i = 0; i < f32.length; i++) {
            f32[i] = i * 0.5f - 3;
            d.f32(f32[i]);
        }
        for (int i = 0; i < f16.length; i++) {
            f16[i] = Dtypes.floatToF16(i - 10);
            d.i16(f16[i]);
        }
        String header = "{\"b\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[37],\"data_offsets\":[3,151]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[29],\"data_offsets\":[151,209]}}";
        Path file = NaiveSafetensors.write(dir.resolve("pieces.safetensors"), header, d.toArray());
        try (SafetensorsFile f = SafetensorsFile.open(file, 16)) {
            Tensor x = f.tensor("x");
            assertThat(x.toFloatArray()).containsExactly(f32);
            for (int i = 0; i < f32.length; i++) {
                assertThat(x.getFloat(i)).isEqualTo(f32[i]);
            }
            float[] mid = new float[20];
            x.readFloats(3, mid, 0, 20);
            for (int i = 0; i < 20; i++) {
                assertThat(mid[i]).isEqualTo(f32[3 + i]);
            }
            float[] h = f.tensor("h").toFloatArray();
            for (int i = 0; i < f16.length; i++) {
                assertThat(h[i]).isCloseTo(i - 10, within(0f));
            }
            assertThatThrownBy(x::rawBytes).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("readFloats");
        }
    }

    @Test
    void closedFileRefusesNewTensorsButKeepsOldViews() {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        Path file = NaiveSafetensors.write(dir.resolve("c.safetensors"), header,
                new NaiveSafetensors.Bytes().f32(7f).toArray());
        SafetensorsFile f = SafetensorsFile.open(file);
        Tensor a = f.tensor("a");
        f.close();
        assertThat(a.getFloat(0)).isEqualTo(7f);
        assertThatThrownBy(() -> f.tensor("a")).isInstanceOf(IllegalStateException.class);
    }
}
