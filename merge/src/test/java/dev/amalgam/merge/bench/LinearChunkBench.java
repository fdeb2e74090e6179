package dev.amalgam.merge.bench;

import dev.amalgam.merge.kernel.Chunks;
import dev.amalgam.merge.kernel.FloatSource;
import dev.amalgam.merge.method.MergeInputs;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.TensorParams;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.SafetensorsFile;
import dev.amalgam.modelio.SafetensorsWriter;
import dev.amalgam.modelio.Tensor;
import dev.amalgam.modelio.TensorSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One chunk of the linear merge (three BF16 inputs widened, weighted, summed, narrowed and written) against one
 * chunk of the I/O floor's work (the same three inputs read and one output written, as {@code MergeBench}'s
 * baseline does), on one thread, in one JVM. Each chunk is timed on its own, the two alternating; a chunk's time
 * is its fastest of all rounds, the least disturbed by other tenants of a shared machine, so the ratio holds on a
 * loaded machine where whole-process times do not. No JIT warm-up, page faults, thread start or other per-process
 * costs are in it (the first round only warms up).
 *
 * <p>Run: {@code java -cp <MergeBench's classpath> dev.amalgam.merge.bench.LinearChunkBench [workdir] [tensors]
 * [rounds]} (defaults: the temporary directory, 128 tensors of one chunk each, 3 x 64 MB of BF16 inputs, 15 rounds).
 */
public final class LinearChunkBench {

    private static final int BLOCK = 2048;

    private LinearChunkBench() {
    }

    public static void main(String[] args) throws Exception {
        Path parent = Path.of(args.length > 0 ? args[0] : System.getProperty("java.io.tmpdir"));
        int tensors = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        int n = Chunks.SIZE;
        Path dir = Files.createTempDirectory(parent, "linear-chunk-bench");
        try {
            List<TensorSpec> specs = new ArrayList<>();
            for (int i = 0; i < tensors; i++) {
                specs.add(new TensorSpec("t" + i, DType.BF16, new long[] {n}));
            }
            SafetensorsFile[] in = new SafetensorsFile[3];
            for (int m = 0; m < 3; m++) {
                Path p = dir.resolve("in" + m + ".safetensors");
                SplittableRandom r = new SplittableRandom(m + 1);
                try (SafetensorsWriter w = SafetensorsWriter.create(p, specs, Map.of())) {
                    float[] v = new float[n];
                    for (TensorSpec s : specs) {
                        for (int k = 0; k < n; k++) {
                            v[k] = (float) (0.02 * (r.nextDouble() - 0.5));
                        }
                        w.write(s.name(), v);
                    }
                }
                in[m] = SafetensorsFile.open(p);
            }
            MergeMethod linear = MergeMethods.get("linear");
            List<TensorParams> weights = List.of(new TensorParams(Map.of("weight", 0.4)),
                    new TensorParams(Map.of("weight", 0.3)), new TensorParams(Map.of("weight", 0.3)));
            TensorParams normalize = new TensorParams(Map.of("normalize", true));
            long[] floor = new long[tensors];
            long[] merge = new long[tensors];
            Arrays.fill(floor, Long.MAX_VALUE);
            Arrays.fill(merge, Long.MAX_VALUE);
            float[] chunk = new float[n];
            float[] block = new float[BLOCK];
            double checksum = 0;
            for (int round = 0; round <= rounds; round++) {
                Path floorOut = dir.resolve("floor.safetensors");
                Path mergeOut = dir.resolve("linear.safetensors");
                try (SafetensorsWriter wf = SafetensorsWriter.create(floorOut, specs, Map.of());
                     SafetensorsWriter wl = SafetensorsWriter.create(mergeOut, specs, Map.of())) {
                    for (int i = 0; i < tensors; i++) {
                        String name = "t" + i;
                        Tensor x = in[0].tensor(name);
                        Tensor y = in[1].tensor(name);
                        Tensor z = in[2].tensor(name);
                        long t0 = System.nanoTime();
                        float sum = 0;
                        for (int s0 = 0; s0 < n; s0 += BLOCK) { // MergeBench's baseline, one chunk
                            int len = Math.min(BLOCK, n - s0);
                            x.readFloats(s0, chunk, s0, len);
                            y.readFloats(s0, block, 0, len);
                            sum += block[len - 1];
                            z.readFloats(s0, block, 0, len);
                            sum += block[0];
                        }
                        wf.writeFloats(name, 0, chunk, 0, n);
                        long t1 = System.nanoTime();
                        List<FloatSource> sources = List.of(source(x), source(y), source(z));
                        linear.merge(MergeInputs.streamed(name, new long[] {n}, sources, weights, -1, normalize, 0),
                                (from, values, offset, length) -> wl.writeFloats(name, from, values, offset, length));
                        long t2 = System.nanoTime();
                        checksum += sum; // keeps the floor's reads of y and z observable
                        if (round > 0) {
                            floor[i] = Math.min(floor[i], t1 - t0);
                            merge[i] = Math.min(merge[i], t2 - t1);
                        }
                    }
                }
                Files.delete(floorOut);
                Files.delete(mergeOut);
            }
            for (SafetensorsFile f : in) {
                f.close();
            }
            double f = Arrays.stream(floor).sum() / (double) tensors / n;
            double l = Arrays.stream(merge).sum() / (double) tensors / n;
            System.out.printf(Locale.ROOT, "java %s, %d tensors of %d BF16 elements x 3 inputs, fastest of %d rounds"
                    + " per chunk%nfloor %.3f ns/output, linear %.3f ns/output, linear / floor %.2fx%s%n",
                    Runtime.version(), tensors, n, rounds, f, l, l / f, Double.isNaN(checksum) ? " (NaN read)" : "");
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    /** The input as the executor hands it to a method: the mapped tensor, widened range by range. */
    private static FloatSource source(Tensor t) {
        int n = (int) t.numel();
        return new FloatSource() {
            @Override
            public int length() {
                return n;
            }

            @Override
            public void read(int from, float[] dst, int offset, int length) {
                t.readFloats(from, dst, offset, length);
            }
        };
    }
}
