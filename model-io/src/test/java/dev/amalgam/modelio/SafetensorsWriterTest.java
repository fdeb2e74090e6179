package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class SafetensorsWriterTest {

    @TempDir
    Path dir;

    private static float[] randomFloats(int n, long seed) {
        Random r = new Random(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
        }
        return out;
    }

    /** What a float becomes after a trip through the dtype, from the (separately tested) conversions. */
    private static float narrowed(DType t, float x) {
        return switch (t) {
            case F32 -> x;
            case F64 -> x;
            case BF16 -> Dtypes.bf16ToFloat(Dtypes.floatToBf16(x));
            case F16 -> Dtypes.f16ToFloat(Dtypes.floatToF16(x));
            case F8_E4M3 -> Dtypes.e4m3ToFloat(Dtypes.floatToE4M3(x));
            case F8_E5M2 -> Dtypes.e5m2ToFloat(Dtypes.floatToE5M2(x));
            default -> throw new AssertionError(t);
        };
    }

    @Test
    void roundTripsEveryFloatingDtype() {
        List<TensorSpec> specs = new ArrayList<>();
        for (DType t : DType.values()) {
            if (t.isFloatingPoint()) {
                specs.add(new TensorSpec("w." + t, t, new long[] {3, 5}));
            }
        }
        Path file = dir.resolve("floats.safetensors");
        float[] values = randomFloats(15, 1);
        try (SafetensorsWriter w = SafetensorsWriter.create(file, specs, Map.of("format", "pt"))) {
            for (TensorSpec s : specs) {
                w.write(s.name(), values);
            }
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            for (TensorSpec s : specs) {
                Tensor t = f.tensor(s.name());
                assertThat(t.dtype()).isEqualTo(s.dtype());
                assertThat(t.shape()).containsExactly(3, 5);
                float[] back = t.toFloatArray();
                for (int i = 0; i < values.length; i++) {
                    assertThat(back[i]).as("%s[%d]", s.dtype(), i).isEqualTo(narrowed(s.dtype(), values[i]));
                }
            }
        }
    }

    @Test
    void roundTripsIntegerDtypesThroughRawBytes() {
        Path file = dir.resolve("ints.safetensors");
        List<TensorSpec> specs = List.of(
                new TensorSpec("bool", DType.BOOL, new long[] {2}),
                new TensorSpec("u8", DType.U8, new long[] {2}),
                new TensorSpec("i8", DType.I8, new long[] {2}),
                new TensorSpec("i16", DType.I16, new long[] {1}),
                new TensorSpec("u16", DType.U16, new long[] {1}),
                new TensorSpec("i32", DType.I32, new long[] {1}),
                new TensorSpec("u32", DType.U32, new long[] {1}),
                new TensorSpec("i64", DType.I64, new long[] {2}),
                new TensorSpec("u64", DType.U64, new long[] {1}));
        try (SafetensorsWriter w = SafetensorsWriter.create(file, specs, Map.of())) {
            w.writeRaw("bool", le().put((byte) 1).put((byte) 0).flip());
            w.writeRaw("u8", le().put((byte) 200).put((byte) 3).flip());
            w.writeRaw("i8", le().put((byte) -3).put((byte) 127).flip());
            w.writeRaw("i16", le().putShort((short) -1234).flip());
            w.writeRaw("u16", le().putShort((short) 60000).flip());
            w.writeRaw("i32", le().putInt(-123456).flip());
            w.writeRaw("u32", le().putInt((int) 3_000_000_000L).flip());
            w.writeRaw("i64", le().putLong(42).putLong(-7).flip());
            w.writeRaw("u64", le().putLong(1L << 40).flip());
            assertThatThrownBy(() -> w.write("i32", new float[] {1f}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("writeRaw");
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.tensor("bool").toFloatArray()).containsExactly(1f, 0f);
            assertThat(f.tensor("u8").toFloatArray()).containsExactly(200f, 3f);
            assertThat(f.tensor("i8").toFloatArray()).containsExactly(-3f, 127f);
            assertThat(f.tensor("i16").getFloat(0)).isEqualTo(-1234f);
            assertThat(f.tensor("u16").getFloat(0)).isEqualTo(60000f);
            assertThat(f.tensor("i32").getFloat(0)).isEqualTo(-123456f);
            assertThat(f.tensor("u32").getFloat(0)).isEqualTo(3e9f);
            assertThat(f.tensor("i64").toFloatArray()).containsExactly(42f, -7f);
            assertThat(f.tensor("u64").getFloat(0)).isEqualTo(0x1p40f);
            assertThat(f.tensor("i64").rawBytes().getLong(8)).isEqualTo(-7L);
        }
    }

    private static ByteBuffer le() {
        return ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void fileBytesFollowTheFormatByHand() throws IOException {
        Path file = dir.resolve("bytes.safetensors");
        try (SafetensorsWriter w = SafetensorsWriter.create(file, List.of(
                new TensorSpec("b", DType.BF16, new long[] {2}),
                new TensorSpec("s", DType.F32, new long[] {})), Map.of("format", "pt"))) {
            w.write("s", new float[] {2f});
            w.write("b", new float[] {1f, -2f});
        }
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertThat(n % 8).isZero();
        String header = new String(all, 8, (int) n, StandardCharsets.UTF_8);
        assertThat(header).startsWith("{\"__metadata__\":{\"format\":\"pt\"}");
        JsonNode json = Json.MAPPER.readTree(header.strip());
        assertThat(json.get("b").get("data_offsets").toString()).isEqualTo("[0,4]");
        assertThat(json.get("s").get("shape").toString()).isEqualTo("[]");
        assertThat(json.get("s").get("data_offsets").toString()).isEqualTo("[4,8]");
        assertThat(all).hasSize((int) (8 + n + 8));
        int d = (int) (8 + n);
        // BF16 1.0 = 0x3F80, -2.0 = 0xC000, little-endian; then F32 2.0 = 0x40000000
        assertThat(new byte[] {all[d], all[d + 1], all[d + 2], all[d + 3]})
                .containsExactly(0x80, 0x3F, 0x00, 0xC0);
        assertThat(b.getInt(d + 4)).isEqualTo(0x40000000);
        assertThat(Files.exists(dir.resolve("bytes.safetensors.tmp"))).isFalse();
    }

    @Test
    void acceptsChunksInAnyOrderFromManyThreads() throws Exception {
        int tensors = 12;
        List<TensorSpec> specs = new ArrayList<>();
        List<float[]> data = new ArrayList<>();
        for (int i = 0; i < tensors; i++) {
            specs.add(new TensorSpec("t" + i, i % 2 == 0 ? DType.BF16 : DType.F32, new long[] {50, 7 + i}));
            data.add(randomFloats(50 * (7 + i), i));
        }
        // every tensor split into 5 chunks; all chunks shuffled across threads
        List<Runnable> jobs = new ArrayList<>();
        Path file = dir.resolve("mt.safetensors");
        SafetensorsWriter w = SafetensorsWriter.create(file, specs, Map.of());
        for (int i = 0; i < tensors; i++) {
            String name = "t" + i;
            float[] v = data.get(i);
            int chunk = (v.length + 4) / 5;
            for (int from = 0; from < v.length; from += chunk) {
                int f = from;
                int len = Math.min(chunk, v.length - from);
                jobs.add(() -> w.writeFloats(name, f, v, f, len));
            }
        }
        Collections.shuffle(jobs, new Random(7));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Runnable job : jobs) {
                futures.add(pool.submit(job));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        w.close();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (int i = 0; i < tensors; i++) {
                float[] back = f.tensor("t" + i).toFloatArray();
                float[] v = data.get(i);
                for (int k = 0; k < v.length; k++) {
                    assertThat(back[k]).isEqualTo(narrowed(specs.get(i).dtype(), v[k]));
                }
            }
        }
    }

    @Test
    void missingTensorFailsCloseAndLeavesNoFile() {
        Path file = dir.resolve("missing.safetensors");
        SafetensorsWriter w = SafetensorsWriter.create(file, List.of(
                new TensorSpec("a", DType.F32, new long[] {4}),
                new TensorSpec("b", DType.F32, new long[] {4}),
                new TensorSpec("empty", DType.F32, new long[] {0})), Map.of());
        w.write("a", new float[4]);
        w.writeFloats("b", 0, new float[2], 0, 2);   // half of b only
        assertThat(w.missing()).containsExactly("b");
        assertThatThrownBy(w::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("missing").hasMessageContaining("b").hasMessageContaining(file.toString());
        assertThat(Files.exists(file)).isFalse();
        assertThat(Files.exists(dir.resolve("missing.safetensors.tmp"))).isFalse();
    }

    @Test
    void rejectsBadWrites() {
        Path file = dir.resolve("bad.safetensors");
        try (SafetensorsWriter w = SafetensorsWriter.create(file,
                List.of(new TensorSpec("a", DType.F16, new long[] {2})), Map.of())) {
            assertThatThrownBy(() -> w.write("a", new float[3])).hasMessageContaining("needs 2 values");
            assertThatThrownBy(() -> w.write("zz", new float[2])).hasMessageContaining("no tensor 'zz'");
            assertThatThrownBy(() -> w.writeRaw("a", ByteBuffer.allocate(3))).hasMessageContaining("4 bytes");
            w.write("a", new float[2]);
            assertThatThrownBy(() -> w.write("a", new float[2])).hasMessageContaining("more than once");
            w.abort();
        }
        assertThat(Files.exists(file)).isFalse();
        assertThatThrownBy(() -> SafetensorsWriter.create(file, List.of(
                new TensorSpec("a", DType.F16, new long[] {2}), new TensorSpec("a", DType.F16, new long[] {2})), null))
                .hasMessageContaining("duplicate");
    }

    @Test
    void copiesStoredBytesOfMultiPieceTensorsAndLargeHeapBuffers() {
        Path src = dir.resolve("src.safetensors");
        float[] v = randomFloats(301, 9);
        try (SafetensorsWriter w = SafetensorsWriter.create(src, List.of(
                new TensorSpec("odd", DType.U8, new long[] {3}),
                new TensorSpec("x", DType.BF16, new long[] {301})), Map.of())) {
            w.writeRaw("odd", ByteBuffer.wrap(new byte[] {1, 2, 3}));
            w.write("x", v);
        }
        Path dst = dir.resolve("dst.safetensors");
        int big = (1 << 20) * 2 + 12;   // heap buffer over the writer's 1 MiB slice size
        ByteBuffer bigBytes = ByteBuffer.allocate(big);
        for (int i = 0; i < big; i++) {
            bigBytes.put(i, (byte) (i * 31));
        }
        try (SafetensorsFile in = SafetensorsFile.open(src, 64);   // 64-byte pieces: x spans 10 of them
             SafetensorsWriter w = SafetensorsWriter.create(dst, List.of(
                     new TensorSpec("x", DType.BF16, new long[] {301}),
                     new TensorSpec("big", DType.U8, new long[] {big})), Map.of())) {
            assertThatThrownBy(() -> w.copy("x", in.tensor("odd"))).hasMessageContaining("cannot copy");
            w.copy("x", in.tensor("x"));
            w.writeRaw("big", bigBytes);
        }
        try (SafetensorsFile out = SafetensorsFile.open(dst)) {
            float[] back = out.tensor("x").toFloatArray();
            for (int i = 0; i < v.length; i++) {
                assertThat(back[i]).isEqualTo(narrowed(DType.BF16, v[i]));
            }
            assertThat(out.tensor("big").rawBytes()).isEqualTo(bigBytes.rewind());
        }
    }
}
