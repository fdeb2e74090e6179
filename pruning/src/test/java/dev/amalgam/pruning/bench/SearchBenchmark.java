package dev.amalgam.pruning.bench;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import dev.amalgam.pruning.PruneSpec;
import dev.amalgam.pruning.PruningListener;
import dev.amalgam.pruning.PruningResult;
import dev.amalgam.pruning.PruningRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * BlockPruner's search with the activation cache against the plain search (every candidate from the embeddings),
 * on one random tiny model and calibration set, through the public {@link PruningRunner}. Both must choose the same
 * blocks with the same perplexities; the benchmark fails otherwise. Prints wall time of the search (median of the
 * repeats, runs alternating) and residual-block forwards. See bench/pruning/README.md.
 *
 * <p>Arguments (all optional): layers hidden intermediate seqLen chunks blocks repeats device.
 */
public final class SearchBenchmark {

    private SearchBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        int layers = arg(args, 0, 16);
        int hidden = arg(args, 1, 64);
        int inter = arg(args, 2, 172);
        int seqLen = arg(args, 3, 128);
        int chunks = arg(args, 4, 8);
        int blocks = arg(args, 5, 8);
        int repeats = arg(args, 6, 3);
        EngineOptions options = EngineOptions.parse(args.length > 7 ? args[7] : "cpu");
        Path work = Files.createTempDirectory("prune-bench");
        Path model = TinyModels.write(Architecture.LLAMA, work.resolve("model"),
                new TinySizes(hidden, inter, layers, 4, 2, Math.max(256, seqLen), DType.BF16), 11);
        Path data = work.resolve("calibration.jsonl");
        SplittableRandom r = new SplittableRandom(5);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < chunks; i++) {
            sb.append("{\"input_ids\": [");
            for (int j = 0; j < seqLen; j++) {
                sb.append(j == 0 ? "" : ",").append(r.nextInt(4) == 0 ? r.nextInt(262) : 97 + r.nextInt(8));
            }
            sb.append("]}\n");
        }
        Files.writeString(data, sb.toString());
        PruneSpec cached = PruneSpec.blockPruner(blocks).withCalibration(chunks, seqLen, 42, 4);
        PruneSpec plain = cached.withCacheBudgetMb(0);
        System.out.printf(Locale.ROOT, "model: %d layers, hidden %d, intermediate %d; calibration %d x %d tokens; "
                + "K = %d; device %s/%s; %d repeats%n", layers, hidden, inter, chunks, seqLen, blocks,
                options.device(), options.computeType(), repeats);
        run(plain.withBlocks(2), model, data, work.resolve("warm"), options); // JIT and PyTorch warm-up
        List<Double> plainSeconds = new ArrayList<>();
        List<Double> cachedSeconds = new ArrayList<>();
        List<Double> plainCpu = new ArrayList<>();
        List<Double> cachedCpu = new ArrayList<>();
        PruningResult p = null;
        PruningResult c = null;
        for (int i = 0; i < repeats; i++) {
            boolean plainFirst = i % 2 == 0;
            PruningResult first = run(plainFirst ? plain : cached, model, data, work.resolve("a" + i), options);
            PruningResult second = run(plainFirst ? cached : plain, model, data, work.resolve("b" + i), options);
            p = plainFirst ? first : second;
            c = plainFirst ? second : first;
            if (!p.steps().equals(c.steps())) {
                throw new AssertionError("cached search chose differently: " + c.steps() + " vs " + p.steps());
            }
            plainSeconds.add(p.searchSeconds());
            cachedSeconds.add(c.searchSeconds());
            plainCpu.add(p.searchCpuSeconds());
            cachedCpu.add(c.searchCpuSeconds());
        }
        double plainMedian = median(plainSeconds);
        double cachedMedian = median(cachedSeconds);
        System.out.printf(Locale.ROOT, "removal order (both): %s%n", c.steps().stream().map(s -> s.blocks().get(0)
                + String.format(Locale.ROOT, " (ppl %.4f)", s.perplexity())).toList());
        System.out.printf(Locale.ROOT, "%-8s %10s %10s %16s  %s%n", "search", "wall s", "cpu s", "block forwards",
                "wall of each run (s)");
        System.out.printf(Locale.ROOT, "%-8s %10.3f %10.3f %16d  %s%n", "plain", plainMedian, median(plainCpu),
                p.blockForwards(), rounded(plainSeconds));
        System.out.printf(Locale.ROOT, "%-8s %10.3f %10.3f %16d  %s%n", "cached", cachedMedian, median(cachedCpu),
                c.blockForwards(), rounded(cachedSeconds));
        System.out.printf(Locale.ROOT, "speed-up (medians): %.2fx wall, %.2fx cpu, %.2fx block forwards; "
                + "identical choices and perplexities: yes%n", plainMedian / cachedMedian,
                median(plainCpu) / median(cachedCpu), (double) p.blockForwards() / c.blockForwards());
        try (var files = Files.walk(work)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    private static List<String> rounded(List<Double> v) {
        return v.stream().map(d -> String.format(Locale.ROOT, "%.2f", d)).toList();
    }

    private static PruningResult run(PruneSpec spec, Path model, Path data, Path out, EngineOptions options) {
        return PruningRunner.run(spec, model, data, null, out, null, PruningListener.NONE, options);
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private static int arg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }
}
