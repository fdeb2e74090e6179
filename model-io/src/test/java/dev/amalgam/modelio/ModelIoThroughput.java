package dev.amalgam.modelio;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Manual throughput check (not a unit test): writes then reads a BF16 and an F32 tensor of
 * {@code args[0]} million elements (default 64) and prints MB/s. Run with
 * {@code java -cp target/classes:target/test-classes dev.amalgam.modelio.ModelIoThroughput 128}.
 */
final class ModelIoThroughput {

    public static void main(String[] args) throws Exception {
        int n = (args.length > 0 ? Integer.parseInt(args[0]) : 64) * 1_000_000;
        Path dir = Files.createTempDirectory("modelio-bench");
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (i % 1000) * 0.001f - 0.5f;
        }
        float[] chunk = new float[1 << 20];
        for (int round = 0; round < 3; round++) {
            for (DType t : List.of(DType.BF16, DType.F32)) {
                Path file = dir.resolve("bench-" + t + ".safetensors");
                long t0 = System.nanoTime();
                try (SafetensorsWriter w = SafetensorsWriter.create(file,
                        List.of(new TensorSpec("w", t, new long[] {n})), Map.of())) {
                    w.write("w", values);
                }
                long t1 = System.nanoTime();
                double sum = 0;
                try (SafetensorsFile f = SafetensorsFile.open(file)) {
                    Tensor w = f.tensor("w");
                    for (long i = 0; i < n; i += chunk.length) {
                        int len = (int) Math.min(chunk.length, n - i);
                        w.readFloats(i, chunk, 0, len);
                        sum += chunk[len - 1];
                    }
                }
                long t2 = System.nanoTime();
                double mb = (double) n * t.size() / 1e6;
                System.out.printf("round %d %s: write %.0f MB/s (%.0f Mfloat/s), read %.0f MB/s (%.0f Mfloat/s) [%s]%n",
                        round, t, mb / ((t1 - t0) / 1e9), n / 1e6 / ((t1 - t0) / 1e9),
                        mb / ((t2 - t1) / 1e9), n / 1e6 / ((t2 - t1) / 1e9), sum);
                Files.delete(file);
            }
        }
        Files.delete(dir);
    }
}
