package dev.amalgam.merge.bench;

import dev.amalgam.merge.MergeOptions;
import dev.amalgam.merge.MergeResult;
import dev.amalgam.merge.MergeRunner;
import dev.amalgam.merge.ModelResolver;
import dev.amalgam.merge.TinyLlama;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.kernel.Chunks;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.ShardedCheckpointWriter;
import dev.amalgam.modelio.Tensor;
import dev.amalgam.modelio.TensorSpec;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Merge benchmark: three generated BF16 Llama-style models of about 1 GB each; times an I/O baseline (read every
 * input tensor widened to FP32, write one output of the same size) against linear, ties and sce merges, in the
 * same run, and reports peak RSS and peak heap per phase.
 *
 * <p>Run: {@code bench/merge/run.sh [workdir] [threads] [layers; 0 = tiny smoke test] [methods, e.g. ties,sce]}.
 *
 * <p>Two more modes serve {@code bench/merge/compare.sh}, which times whole processes: {@code generate WORKDIR LAYERS}
 * writes the three models and exits; {@code once WORKDIR THREADS io|linear|ties|sce} runs one phase once, with no
 * warm-up, and leaves its output in {@code WORKDIR/amalgam-merge-bench/out} for the script to compare and delete.
 */
public final class MergeBench {

    private static final int REPS = 3;

    private MergeBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("generate")) {
            generate(workDir(args[1]), Integer.parseInt(args[2]), 1);
            return;
        }
        if (args.length > 0 && args[0].equals("once")) {
            once(workDir(args[1]), Integer.parseInt(args[2]), args[3]);
            return;
        }
        Path work = workDir(args.length > 0 ? args[0] : System.getProperty("java.io.tmpdir"));
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        // ~491M parameters = ~0.98 GB in BF16 per model; largest tensor 32000 x 2048
        int layers = args.length > 2 ? Integer.parseInt(args[2]) : 7;
        generate(work, layers, threads);

        MergeOptions opts = MergeOptions.defaults().withThreads(threads).withMaxShardBytes(2_000_000_000L);
        List<String[]> rows = new ArrayList<>();
        // warm-up round (JIT) on the same data, not reported
        List<String[]> warm = new ArrayList<>();
        phase("warm-up io", warm, () -> ioBaseline(work, threads));
        List<String> methods = args.length > 3 ? List.of(args[3].split(",")) : List.of("linear", "ties", "sce");
        for (String m : methods) {
            phase("warm-up " + m, warm, () -> merge(work, m, yaml(m), opts));
        }
        double io1 = phase("io-baseline", rows, () -> ioBaseline(work, threads));
        Map<String, Double> methodSecs = new LinkedHashMap<>();
        for (String m : methods) {
            methodSecs.put(m, phase(m, rows, () -> merge(work, m, yaml(m), opts)));
        }
        double io2 = phase("io-baseline (again)", rows, () -> ioBaseline(work, threads));
        System.out.printf(Locale.ROOT, "(times are the best of %d runs after a warm-up round)%n", REPS);
        double io = Math.min(io1, io2);
        System.out.println();
        // CPU seconds of the same best run: on a shared machine they move less with the other tenants than wall time
        System.out.println("| phase | seconds | x I/O baseline | CPU s | GC s/run | peak RSS GB | peak heap GB |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (String[] r : rows) {
            double secs = Double.parseDouble(r[1]);
            System.out.printf(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %s | %s | %s |%n", r[0], secs, secs / io,
                    Double.parseDouble(r[5]), r[4], r[2], r[3]);
        }
        System.out.println();
        for (Map.Entry<String, Double> e : methodSecs.entrySet()) {
            // ties and sce: no bar against the floor (their bar is >= 10x faster than mergekit's kernels, compare.sh)
            System.out.printf(Locale.ROOT, "ratio %s: %.2fx%s%n", e.getKey(), e.getValue() / io,
                    e.getKey().equals("linear") ? " (target <= 1.3)" : "");
        }
        deleteRecursively(work);
    }

    private static Path workDir(String parent) {
        return Path.of(parent).resolve("amalgam-merge-bench");
    }

    /** Writes the models base, m1 and m2 (m1 and m2: base plus different small perturbations) into {@code work}. */
    private static void generate(Path work, int layers, int threads) throws IOException {
        TinyLlama spec = layers == 0 ? new TinyLlama(1000, 256, 512, 2, 4, 4, false, DType.BF16) // smoke test
                : new TinyLlama(32000, 2048, 5632, layers, 16, 16, false, DType.BF16);
        long params = spec.specs().stream().mapToLong(TensorSpec::numel).sum();
        System.out.printf(Locale.ROOT, "models: 3 x %d params (%.2f GB BF16), threads %d, max heap %.1f GB%n", params,
                params * 2 / 1e9, threads, Runtime.getRuntime().maxMemory() / 1e9);
        deleteRecursively(work);
        long g = System.nanoTime();
        spec.write(work.resolve("base"), 1);
        spec.writeVariant(work.resolve("m1"), 1, 2, 0.01f);
        spec.writeVariant(work.resolve("m2"), 1, 3, 0.01f);
        System.out.printf(Locale.ROOT, "generated in %.1f s%n", (System.nanoTime() - g) / 1e9);
    }

    /**
     * One phase, once, as a whole process would run it: the JVM's default heap, no warm-up, the CLI's default
     * shard size (5 GB, as mergekit's); the output stays in {@code work/out}.
     */
    private static void once(Path work, int threads, String phase) throws Exception {
        Path out = work.resolve("out");
        if (phase.equals("io")) {
            ioBaseline(work, threads, out);
        } else {
            MergeOptions opts = MergeOptions.defaults().withThreads(threads).withMaxShardBytes(5_000_000_000L);
            mergeInto(work, yaml(phase), opts, out);
        }
    }

    private static String yaml(String method) {
        return switch (method) {
            case "linear" -> """
                    merge_method: linear
                    models:
                      - {model: base, parameters: {weight: 0.4}}
                      - {model: m1, parameters: {weight: 0.3}}
                      - {model: m2, parameters: {weight: 0.3}}
                    dtype: bfloat16
                    """;
            case "ties" -> """
                    merge_method: ties
                    base_model: base
                    models:
                      - {model: m1, parameters: {weight: 0.5, density: 0.5}}
                      - {model: m2, parameters: {weight: 0.5, density: 0.5}}
                    dtype: bfloat16
                    """;
            case "sce" -> """
                    merge_method: sce
                    base_model: base
                    models: [{model: m1}, {model: m2}]
                    parameters: {select_topk: 0.1}
                    dtype: bfloat16
                    """;
            default -> throw new IllegalArgumentException(method);
        };
    }

    private interface Phase {
        void run() throws Exception;
    }

    /** Best of {@link #REPS} runs (after the warm-up round); peaks are over all runs of the phase. */
    private static double phase(String name, List<String[]> rows, Phase body) throws Exception {
        System.gc();
        resetPeaks();
        double secs = Double.MAX_VALUE;
        double cpu = 0;
        long gc0 = gcMillis();
        int reps = name.startsWith("warm-up") ? 1 : REPS;
        for (int r = 0; r < (name.startsWith("warm-up") ? 1 : REPS); r++) {
            long c = processCpuNanos();
            long t = System.nanoTime();
            body.run();
            double s = (System.nanoTime() - t) / 1e9;
            if (s < secs) {
                secs = s;
                cpu = (processCpuNanos() - c) / 1e9;
            }
        }
        String gc = String.format(Locale.ROOT, "%.2f", (gcMillis() - gc0) / 1000.0 / reps);
        String rss = String.format(Locale.ROOT, "%.2f", peakRssKiB() / 1e6 * 1.024);
        String heap = String.format(Locale.ROOT, "%.2f", peakHeap() / 1e9);
        System.out.printf(Locale.ROOT, "%-20s %7.2f s  CPU %.2f s  GC %s s/run  peak RSS %s GB  peak heap %s GB%n", name,
                secs, cpu, gc, rss, heap);
        rows.add(new String[]{name, Double.toString(secs), rss, heap, gc, Double.toString(cpu)});
        return secs;
    }

    private static void merge(Path work, String name, String yaml, MergeOptions opts) throws IOException {
        Path out = work.resolve("out-" + name);
        mergeInto(work, yaml, opts, out);
        deleteRecursively(out);
    }

    private static void mergeInto(Path work, String yaml, MergeOptions opts, Path out) throws IOException {
        MergeResult r = new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(work), out, opts,
                dev.amalgam.job.Progress.NONE);
        if (r.tensors() == 0) {
            throw new IllegalStateException("nothing merged");
        }
    }

    /**
     * Reads every tensor of the three models (widened to FP32) and writes one model's values back out, on the same
     * path as the merges: tensors largest first on {@code threads} workers, each tensor in parallel chunks, the
     * inputs read in blocks, each chunk narrowed and written as soon as it is assembled.
     */
    private static void ioBaseline(Path work, int threads) throws Exception {
        Path out = work.resolve("out-io");
        ioBaseline(work, threads, out);
        deleteRecursively(out);
    }

    private static void ioBaseline(Path work, int threads, Path out) throws Exception {
        try (HfModelDir a = HfModelDir.open(work.resolve("base")); HfModelDir b = HfModelDir.open(work.resolve("m1"));
             HfModelDir c = HfModelDir.open(work.resolve("m2"))) {
            List<TensorSpec> specs = a.tensorNames().stream()
                    .map(n -> new TensorSpec(n, a.info(n).dtype(), a.info(n).shape())).toList();
            AtomicInteger next = new AtomicInteger();
            List<TensorSpec> bySize = specs.stream().sorted(Comparator.comparingLong(t -> -t.numel())).toList();
            double[] checksum = new double[1];
            try (ShardedCheckpointWriter w = ShardedCheckpointWriter.create(out, specs, 2_000_000_000L)) {
                List<Thread> ts = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    Thread t = new Thread(() -> {
                        for (int k; (k = next.getAndIncrement()) < bySize.size(); ) {
                            String n = bySize.get(k).name();
                            Tensor x = a.tensor(n);
                            Tensor y = b.tensor(n);
                            Tensor z = c.tensor(n);
                            Chunks.forEach((int) x.numel(), (ch, from, to) -> {
                                float[] chunk = CHUNK.get();
                                float[] block = new float[BLOCK];
                                float sum = 0;
                                for (int s0 = from; s0 < to; s0 += BLOCK) {
                                    int len = Math.min(BLOCK, to - s0);
                                    x.readFloats(s0, chunk, s0 - from, len);
                                    y.readFloats(s0, block, 0, len);
                                    sum += block[len - 1];
                                    z.readFloats(s0, block, 0, len);
                                    sum += block[0];
                                }
                                w.writeFloats(n, from, chunk, 0, to - from);
                                synchronized (checksum) { // keeps the reads of y and z observable
                                    checksum[0] += sum;
                                }
                            });
                        }
                    });
                    ts.add(t);
                    t.start();
                }
                for (Thread t : ts) {
                    t.join();
                }
            }
            if (Double.isNaN(checksum[0])) {
                System.out.println("(NaN in the inputs)");
            }
        }
    }

    private static final int BLOCK = 2048;
    private static final ThreadLocal<float[]> CHUNK = ThreadLocal.withInitial(() -> new float[Chunks.SIZE]);

    /** CPU time of the whole process, all threads (the JIT's and the collector's too). */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            p.resetPeakUsage();
        }
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5"); // resets VmHWM (Linux)
        } catch (IOException | SecurityException ignored) {
            // not Linux or not permitted: the peak then covers the whole run so far
        }
    }

    private static long gcMillis() {
        long t = 0;
        for (java.lang.management.GarbageCollectorMXBean g : ManagementFactory.getGarbageCollectorMXBeans()) {
            t += Math.max(0, g.getCollectionTime());
        }
        return t;
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    private static long peakRssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
