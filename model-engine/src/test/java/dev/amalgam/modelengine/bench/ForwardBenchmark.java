package dev.amalgam.modelengine.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;

/**
 * Forward throughput on the CPU as a fraction of the FLOP/s DJL's own matrix multiply reaches in the same run,
 * plus the resident anonymous memory a checkpoint load costs relative to the model's FP32 size (run with a fixed,
 * pre-touched heap so that heap growth does not count).
 *
 * <p>Model: Llama-style, hidden 1024, intermediate 2816, 8 layers, 16 heads, 4 KV heads (GQA), stored BF16, batch
 * 1 x sequence 256. Args: {@code [hidden] [layers] [seq] [iterations]}.
 */
public final class ForwardBenchmark {

    public static void main(String[] rawArgs) throws IOException {
        String[] args = String.join(" ", rawArgs).trim().isEmpty() ? new String[0]
                : String.join(" ", rawArgs).trim().split("\\s+");
        int hidden = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        int layers = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int seq = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        int iterations = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        int intermediate = (int) (Math.round(hidden * 2.75 / 64.0) * 64);
        Path dir = Files.createTempDirectory("engine-bench");
        try {
            TinyModels.write(Architecture.LLAMA, dir, new TinySizes(hidden, intermediate, layers, 16, 4, 4096, DType.BF16), 1);
            DjlRuntime.engine(); // natives loaded before the memory baseline
            System.gc();
            long rssBefore = rssAnonBytes();
            PeakSampler peak = new PeakSampler();
            peak.start();
            LlamaModel loaded = CheckpointLoader.load(dir, EngineOptions.cpu());
            peak.interrupt();
            try (LlamaModel model = loaded) {
                long rssAfter = rssAnonBytes();
                long fp32 = model.weights().parameterCount() * 4;
                LlamaConfig c = model.config();
                System.out.printf(Locale.ROOT, "threads: %s, model: hidden %d, intermediate %d, layers %d, heads %d/%d,"
                        + " params %.1f M, seq %d%n", System.getenv().getOrDefault("OMP_NUM_THREADS", "default"),
                        hidden, intermediate, layers, c.numAttentionHeads(), c.numKeyValueHeads(),
                        model.weights().parameterCount() / 1e6, seq);
                System.out.printf(Locale.ROOT, "load: RssAnon +%.1f MiB after, +%.1f MiB at peak, for %.1f MiB of FP32"
                        + " weights = %.2fx after, %.2fx peak%n", (rssAfter - rssBefore) / 1048576.0,
                        (peak.peak - rssBefore) / 1048576.0, fp32 / 1048576.0, (rssAfter - rssBefore) / (double) fp32,
                        (peak.peak - rssBefore) / (double) fp32);
                double forwardFlops = forwardFlops(c, seq);
                // Interleaved rounds, best of each: both see the same machine load (the CPU is shared).
                double forwardSeconds = Double.MAX_VALUE;
                double matmulRate = 0;
                // The matmul is repeated to the forward's FLOP count, so both timings span the same duration.
                double oneMatmul = 2.0 * seq * hidden * intermediate;
                int repeats = (int) Math.max(1, Math.round(forwardFlops / oneMatmul));
                for (int round = 0; round < iterations; round++) {
                    forwardSeconds = Math.min(forwardSeconds, timeForward(model, seq, 1));
                    matmulRate = Math.max(matmulRate, matmulRate(model.manager(), seq, hidden, intermediate, repeats));
                }
                double modelRate = forwardFlops / forwardSeconds;
                System.out.printf(Locale.ROOT, "forward: %.1f ms, %.2f GFLOP -> %.1f GFLOP/s (%.0f tokens/s)%n",
                        forwardSeconds * 1e3, forwardFlops / 1e9, modelRate / 1e9, seq / forwardSeconds);
                System.out.printf(Locale.ROOT, "DJL matmul [%d x %d] x [%d x %d] x %d: %.1f GFLOP/s%n", seq, hidden, hidden,
                        intermediate, repeats, matmulRate / 1e9);
                System.out.printf(Locale.ROOT, "forward / matmul FLOP/s = %.1f %%%n", 100 * modelRate / matmulRate);
            }
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Multiply-adds of every matrix product the forward executes, times 2 (full T x T attention, as computed). */
    static double forwardFlops(LlamaConfig c, int t) {
        double q = (double) c.numAttentionHeads() * c.headDim();
        double kv = (double) c.numKeyValueHeads() * c.headDim();
        double h = c.hiddenSize();
        double perLayer = h * q + 2 * h * kv + q * h + 3 * h * c.intermediateSize();
        double attention = 2.0 * t * t * q; // q k^T and p v
        return 2 * (t * (perLayer * c.numHiddenLayers() + h * c.vocabSize()) + attention * c.numHiddenLayers());
    }

    private static double timeForward(LlamaModel model, int seq, int iterations) {
        long[][] ids = new long[1][seq];
        for (int i = 0; i < seq; i++) {
            ids[0][i] = (i * 31L + 7) % model.config().vocabSize();
        }
        double best = Double.MAX_VALUE;
        for (int i = 0; i < iterations + 1; i++) {
            try (NDManager m = model.manager().newSubManager()) {
                NDArray input = m.create(ids);
                long start = System.nanoTime();
                NDArray logits = model.logits(input, null, BlockMask.none());
                logits.getFloat(0, 0, 0); // force completion
                double s = (System.nanoTime() - start) / 1e9;
                if (i >= 1) {
                    best = Math.min(best, s);
                }
            }
        }
        return best;
    }

    /** FLOP/s of DJL's linear (x W^T), the primitive of every projection, on the MLP's shape, over {@code repeats} calls. */
    private static double matmulRate(NDManager parent, int seq, int hidden, int intermediate, int repeats) {
        try (NDManager m = parent.newSubManager(Device.cpu())) {
            NDArray x = m.randomNormal(new Shape(1, seq, hidden), DataType.FLOAT32);
            NDArray w = m.randomNormal(new Shape(intermediate, hidden), DataType.FLOAT32);
            Linear.linear(x, w).singletonOrThrow().close(); // warm-up
            long start = System.nanoTime();
            for (int i = 0; i < repeats; i++) {
                try (NDArray y = Linear.linear(x, w).singletonOrThrow()) {
                    y.getFloat(0, 0, 0);
                }
            }
            double s = (System.nanoTime() - start) / 1e9;
            return 2.0 * seq * hidden * intermediate * repeats / s;
        }
    }

    /** Polls RssAnon every millisecond while the checkpoint loads. */
    private static final class PeakSampler extends Thread {
        volatile long peak;

        PeakSampler() {
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                while (!isInterrupted()) {
                    peak = Math.max(peak, rssAnonBytes());
                    Thread.sleep(1);
                }
            } catch (InterruptedException | IOException e) {
                // done
            }
            try {
                peak = Math.max(peak, rssAnonBytes());
            } catch (IOException e) {
                // keep the last sample
            }
        }
    }

    /** Anonymous resident memory of this process (heap, native allocations; not the mapped checkpoint files). */
    private static long rssAnonBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("RssAnon:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }
}
