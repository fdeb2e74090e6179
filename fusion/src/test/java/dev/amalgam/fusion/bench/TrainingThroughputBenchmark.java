package dev.amalgam.fusion.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import dev.amalgam.fusion.data.ChatTokenizer;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.fusion.data.TokenizedPreference;
import dev.amalgam.fusion.loss.LossType;
import dev.amalgam.fusion.loss.PreferenceLosses.BaselineChosen;
import dev.amalgam.fusion.train.AdamW;
import dev.amalgam.fusion.train.CosineSchedule;
import dev.amalgam.fusion.train.FullFineTune;
import dev.amalgam.fusion.train.LossScaler;
import dev.amalgam.fusion.train.Trainer;
import dev.amalgam.fusion.wrpo.PreferenceObjective;
import dev.amalgam.fusion.wrpo.ReferenceLogps;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * WRPO training throughput on the CPU as a fraction of the FLOP/s DJL's matrix multiply reaches in the same run.
 * Model FLOPs follow the usual count: 6 x parameters per trained token (forward + backward of the policy) plus
 * 2 x parameters per reference token (the one-off reference forward, timed too); padding tokens are not counted.
 * Training and the matmul probe alternate in rounds and the best of each is kept, so both see the same machine load.
 *
 * <p>Args: {@code [hidden] [layers] [responseTokens] [rounds]} (defaults 512 4 96 3); batch 4 records (12 sequences).
 */
public final class TrainingThroughputBenchmark {

    public static void main(String[] rawArgs) throws Exception {
        String joined = String.join(" ", rawArgs).trim();
        String[] args = joined.isEmpty() ? new String[0] : joined.split("\\s+");
        int hidden = args.length > 0 ? Integer.parseInt(args[0]) : 512;
        int layers = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int responseTokens = args.length > 2 ? Integer.parseInt(args[2]) : 96;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        int intermediate = (int) (Math.round(hidden * 2.75 / 64.0) * 64);
        int batch = 4;
        Path dir = Files.createTempDirectory("fusion-bench");
        try {
            TinyModels.write(Architecture.LLAMA, dir.resolve("m"),
                    new TinySizes(hidden, intermediate, layers, 8, 4, 4096, DType.BF16), 1);
            List<TokenizedPreference> records = new ArrayList<>();
            try (TextTokenizer tok = TextTokenizer.load(dir.resolve("m"))) {
                ChatTokenizer ct = new ChatTokenizer(tok, 1024, 512);
                Random r = new Random(3);
                for (int i = 0; i < batch; i++) {
                    records.add(ct.tokenize(PreferenceRecord.preference(text(r, 32), text(r, responseTokens),
                            text(r, responseTokens - 8), text(r, responseTokens + 8))));
                }
            }
            long tokensPerStep = 0;
            for (TokenizedPreference t : records) {
                for (int[] resp : t.responses()) {
                    tokensPerStep += t.prompt().length + resp.length;
                }
            }
            try (FullFineTune model = new FullFineTune(CheckpointLoader.load(dir.resolve("m"), EngineOptions.cpu()));
                    NDManager opt = model.base().manager().newSubManager()) {
                long params = model.base().weights().parameterCount();
                Trainer trainer = new Trainer(model, new AdamW(opt, 0.9, 0.999, 1e-8, 0), new CosineSchedule(1e-5,
                        1000, 0), 1.0, LossScaler.none());
                int[] all = {0, 1, 2, 3};
                double refSeconds = Double.MAX_VALUE;
                double stepSeconds = Double.MAX_VALUE;
                double matmul = 0;
                ReferenceLogps ref = ReferenceLogps.compute(model, records, batch); // warm-up
                PreferenceObjective objective = new PreferenceObjective(records, ref, LossType.WRPO, 0.01, 0, 0,
                        BaselineChosen.TARGET, null);
                objective.prepare(0.05, batch);
                trainer.step(0, List.of(all), objective); // warm-up
                double stepFlops = 6.0 * params * tokensPerStep;
                for (int round = 0; round < rounds; round++) {
                    long t0 = System.nanoTime();
                    ReferenceLogps.compute(model, records, batch);
                    refSeconds = Math.min(refSeconds, (System.nanoTime() - t0) / 1e9);
                    long t1 = System.nanoTime();
                    trainer.step(round + 1, List.of(all), objective);
                    stepSeconds = Math.min(stepSeconds, (System.nanoTime() - t1) / 1e9);
                    matmul = Math.max(matmul, matmulRate(model.base().manager(), (int) (tokensPerStep / 3), hidden,
                            intermediate, stepFlops));
                }
                // One preference step plus its share of the reference pass (once per record, amortised per epoch).
                double flops = 6.0 * params * tokensPerStep + 2.0 * params * tokensPerStep;
                double rate = flops / (stepSeconds + refSeconds);
                System.out.printf(Locale.ROOT, "threads: %s, model: hidden %d, intermediate %d, layers %d, params %.1f M;"
                        + " batch %d records = %d sequences, %d real tokens%n",
                        System.getenv().getOrDefault("OMP_NUM_THREADS", "default"), hidden, intermediate, layers,
                        params / 1e6, batch, 3 * batch, tokensPerStep);
                System.out.printf(Locale.ROOT, "train step (fwd+bwd+clip+AdamW): %.1f ms = %.1f GFLOP/s (6N/token);"
                        + " reference forward: %.1f ms = %.1f GFLOP/s (2N/token)%n", stepSeconds * 1e3,
                        6.0 * params * tokensPerStep / stepSeconds / 1e9, refSeconds * 1e3,
                        2.0 * params * tokensPerStep / refSeconds / 1e9);
                System.out.printf(Locale.ROOT, "training throughput: %.0f trained tokens/s, %.1f GFLOP/s%n",
                        tokensPerStep / (stepSeconds + refSeconds), rate / 1e9);
                System.out.printf(Locale.ROOT, "DJL matmul [%d x %d] x [%d x %d]: %.1f GFLOP/s%n", tokensPerStep / 3,
                        hidden, hidden, intermediate, matmul / 1e9);
                System.out.printf(Locale.ROOT, "training / matmul FLOP/s = %.1f %%%n", 100 * rate / matmul);
            }
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String text(Random r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append((char) ('a' + r.nextInt(26)));
        }
        return sb.toString();
    }

    /** FLOP/s of DJL's linear (x W^T) on the MLP's shape, repeated to about {@code targetFlops}. */
    private static double matmulRate(NDManager parent, int tokens, int hidden, int intermediate, double targetFlops) {
        try (NDManager m = parent.newSubManager()) {
            NDArray x = m.randomNormal(new Shape(1, tokens, hidden), DataType.FLOAT32);
            NDArray w = m.randomNormal(new Shape(intermediate, hidden), DataType.FLOAT32);
            Linear.linear(x, w).singletonOrThrow().close();
            double one = 2.0 * tokens * hidden * intermediate;
            int repeats = (int) Math.max(1, Math.round(targetFlops / one));
            long start = System.nanoTime();
            for (int i = 0; i < repeats; i++) {
                try (NDArray y = Linear.linear(x, w).singletonOrThrow()) {
                    y.getFloat(0, 0, 0);
                }
            }
            return one * repeats / ((System.nanoTime() - start) / 1e9);
        }
    }
}
