package dev.amalgam.fusion.bench;

import dev.amalgam.job.CancelledException;
import dev.amalgam.job.Progress;
import dev.amalgam.fusion.FusionRunner;
import dev.amalgam.fusion.FusionSpec;
import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.fusion.testing.GcPressure;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * How reproducible fusion runs are under different CPU settings: per setting, two uninterrupted runs and, per stop
 * point, a run stopped there plus a run resuming it, each in its own JVM (as a worker that restarts), with the
 * garbage collector running every 20 ms in each. Compares the saved FP32 models byte for byte with the first
 * uninterrupted run. Settings: {@code readme} (MKL_CBWR=COMPATIBLE, one thread), {@code default} (PyTorch's own
 * thread count, no MKL_CBWR), {@code cbwr} (default threads, MKL_CBWR=COMPATIBLE), {@code cbwr-fixed} (as many
 * intra-op threads as cores, set explicitly, MKL_CBWR=COMPATIBLE), {@code 1-then-N} (first attempts as readme,
 * second ones as cbwr-fixed: a job resumed by a worker with another thread count).
 *
 * <pre>
 * ./mvnw -B -q -o -pl fusion -am test -Dtest=ResumeReproducibilityBenchmark -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dbench.resume=true [-Dbench.resume.settings=readme,default] [-Dbench.resume.repeats=1]
 * </pre>
 * Prints a line per comparison and a summary per setting (also in {@code fusion/target/bench-resume.txt}).
 */
@EnabledIfSystemProperty(named = "bench.resume", matches = "true")
class ResumeReproducibilityBenchmark {

    /** Environment variables and JVM options of an attempt (OMP_WAIT_POLICY=PASSIVE is always added). */
    private record Settings(Map<String, String> env, List<String> props) {
        static final Settings NONE = new Settings(Map.of(), List.of());
    }

    /** A job shape: spec, target, data, stop points (finished steps over all stages). */
    private record Scenario(String name, String spec, String model, String data, String eval, int[] stops) {
    }

    private static final String BASE = "\"loss\": \"wrpo\", \"lr\": 0.003, \"beta\": 0.1, \"alphaEnd\": 0.5,"
            + " \"maxPromptLength\": 32, \"warmupRatio\": 0.1, \"device\": \"cpu\", \"outputDtype\": \"fp32\"";

    private static final List<Scenario> SCENARIOS = List.of(
            new Scenario("full", "{\"stages\": [\"wrpo\"], \"epochs\": 2, \"batchSize\": 2, \"gradAccum\": 3,"
                    + " \"maxLength\": 64, \"checkpointEvery\": 2, \"evalEvery\": 2, " + BASE + "}",
                    "llama", "train.jsonl", "eval.jsonl", new int[] {3, 5}),
            new Scenario("sft+wrpo", "{\"stages\": [\"sft\", \"wrpo\"], \"sftLr\": 0.01, \"sftEpochs\": 2,"
                    + " \"epochs\": 1, \"batchSize\": 2, \"gradAccum\": 1, \"maxLength\": 48, \"checkpointEvery\": 2,"
                    + " \"evalEvery\": 0, " + BASE + "}", "llama", "both.jsonl", null, new int[] {3, 5}),
            new Scenario("lora", "{\"stages\": [\"sft\", \"wrpo\"], \"sftLr\": 0.01, \"sftEpochs\": 2,"
                    + " \"epochs\": 1, \"batchSize\": 2, \"gradAccum\": 2, \"maxLength\": 48, \"checkpointEvery\": 1,"
                    + " \"evalEvery\": 0, \"lora\": {\"rank\": 2, \"alpha\": 4, \"targetModules\": [\"k_proj\","
                    + " \"up_proj\"]}, " + BASE + "}", "qwen", "both.jsonl", null, new int[] {2, 3}),
            // hidden 256: matrices large enough for PyTorch and MKL to split work across threads
            new Scenario("full-h256", "{\"stages\": [\"wrpo\"], \"epochs\": 1, \"batchSize\": 4, \"gradAccum\": 2,"
                    + " \"maxLength\": 64, \"checkpointEvery\": 1, \"evalEvery\": 0, " + BASE.replace("0.003", "0.0003")
                    + "}", "h256", "train.jsonl", null, new int[] {1}));

    @TempDir
    Path dir;

    @Test
    void compareRunsUnderEachSetting() throws Exception {
        setUp(dir);
        int cores = Runtime.getRuntime().availableProcessors();
        Settings one = new Settings(Map.of("MKL_CBWR", "COMPATIBLE", "MKL_NUM_THREADS", "1", "OMP_NUM_THREADS", "1"),
                List.of("-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1"));
        Settings fixed = new Settings(Map.of("MKL_CBWR", "COMPATIBLE"),
                List.of("-Dai.djl.pytorch.num_threads=" + cores, "-Dai.djl.pytorch.num_interop_threads=1"));
        // {first attempt, second attempt}: the second uninterrupted run and every resume use the second
        Map<String, Settings[]> all = new LinkedHashMap<>();
        all.put("readme", new Settings[] {one, one});
        all.put("default", new Settings[] {Settings.NONE, Settings.NONE});
        all.put("cbwr", new Settings[] {new Settings(Map.of("MKL_CBWR", "COMPATIBLE"), List.of()),
            new Settings(Map.of("MKL_CBWR", "COMPATIBLE"), List.of())});
        all.put("cbwr-fixed", new Settings[] {fixed, fixed});
        all.put("1-then-" + cores, new Settings[] {one, fixed}); // resumed by a worker with another thread count
        List<String> settings = List.of(System.getProperty("bench.resume.settings", String.join(",", all.keySet()))
                .split(","));
        int repeats = Integer.getInteger("bench.resume.repeats", 1);
        List<String> report = new ArrayList<>();
        report.add("# " + java.time.Instant.now() + ", " + cores + " cores, load average "
                + String.format(Locale.ROOT, "%.1f",
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
        for (String setting : settings) {
            int pairs = 0;
            int samePairs = 0;
            int resumes = 0;
            int sameResumes = 0;
            for (int rep = 0; rep < repeats; rep++) {
                for (Scenario s : SCENARIOS) {
                    Path root = dir.resolve(setting + "-" + rep + "-" + s.name());
                    Settings first = all.get(setting)[0];
                    Settings second = all.get(setting)[1];
                    child(first, "whole", s, root.resolve("a"), 0);
                    child(second, "whole", s, root.resolve("b"), 0);
                    double d = maxDiff(root.resolve("a/out"), root.resolve("b/out"));
                    pairs++;
                    samePairs += d == 0 && sameBytes(root.resolve("a/out"), root.resolve("b/out")) ? 1 : 0;
                    report.add(line(setting, s.name(), "uninterrupted vs uninterrupted", d));
                    for (int k : s.stops()) {
                        Path r = root.resolve("stop" + k);
                        child(first, "stop", s, r, k);
                        child(second, "whole", s, r, 0);
                        double e = maxDiff(root.resolve("a/out"), r.resolve("out"));
                        resumes++;
                        sameResumes += e == 0 && sameBytes(root.resolve("a/out"), r.resolve("out")) ? 1 : 0;
                        report.add(line(setting, s.name(), "resumed after step " + k + " vs uninterrupted", e));
                    }
                }
            }
            report.add(String.format(Locale.ROOT, "SUMMARY %s: uninterrupted pairs identical %d of %d; resumed runs"
                    + " identical %d of %d", setting, samePairs, pairs, sameResumes, resumes));
            System.out.println(report.get(report.size() - 1));
        }
        report.forEach(System.out::println);
        Files.write(Path.of("target", "bench-resume.txt"), report);
    }

    private static String line(String setting, String scenario, String what, double maxDiff) {
        return String.format(Locale.ROOT, "%-10s %-9s %-40s %s", setting, scenario, what,
                maxDiff == 0 ? "identical" : "max |diff| " + maxDiff);
    }

    /** One attempt in a fresh JVM with exactly the given CPU settings (none inherited from this test JVM). */
    private static void child(Settings settings, String mode, Scenario s, Path work, int stopAfter)
            throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dai.djl.offline=true"));
        cmd.addAll(settings.props());
        cmd.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                ResumeReproducibilityBenchmark.class.getName(), mode, s.name(), work.toString(),
                Integer.toString(stopAfter)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(work.getParent().resolve(work.getFileName() + "-" + mode + ".log").toFile());
        Files.createDirectories(work);
        for (String v : List.of("MKL_CBWR", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY")) {
            pb.environment().remove(v);
        }
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().put("BENCH_DATA", dataDir(work).toString());
        pb.environment().putAll(settings.env());
        int rc = pb.start().waitFor();
        if (rc != 0) {
            throw new IllegalStateException(mode + " " + s.name() + " in " + work + " exited with " + rc);
        }
    }

    /** Child JVM: {@code whole|stop scenario workDir stopAfter}. */
    public static void main(String[] args) throws Exception {
        Scenario s = SCENARIOS.stream().filter(x -> x.name().equals(args[1])).findFirst().orElseThrow();
        Path work = Path.of(args[2]);
        Path data = Path.of(System.getenv("BENCH_DATA"));
        int stopAfter = Integer.parseInt(args[3]);
        int[] steps = {0};
        Progress listener = new Progress() {
            @Override
            public void metrics(String stage, long step, Map<String, ? extends Number> values) {
                steps[0]++;
            }

            @Override
            public void progress(double fraction, String message) {
            }

            @Override
            public boolean isCancelled() {
                return args[0].equals("stop") && steps[0] >= stopAfter;
            }
        };
        FusionSpec spec = FusionSpec.fromJson(Json.MAPPER.readTree(s.spec()));
        try (GcPressure gc = GcPressure.start()) {
            FusionRunner.run(spec, data.resolve(s.model()), data.resolve(s.data()),
                    s.eval() == null ? null : data.resolve(s.eval()), work.resolve("w"), work.resolve("out"), listener);
        } catch (CancelledException e) {
            System.out.println("stopped after step " + steps[0]);
        }
        System.exit(0);
    }

    private static Path dataDir(Path work) {
        Path p = work;
        while (!Files.isDirectory(p.resolve("data"))) {
            p = p.getParent();
        }
        return p.resolve("data");
    }

    private static void setUp(Path dir) {
        Path d = dir.resolve("data");
        TinyData.llama(d.resolve("llama"), 21);
        TinyData.qwen2(d.resolve("qwen"), 43);
        TinyModels.write(Architecture.LLAMA, d.resolve("h256"), new TinySizes(256, 704, 2, 8, 4, 256, DType.F32), 7);
        PreferenceJsonl.write(d.resolve("train.jsonl"), TinyData.patterned(16, 100));
        PreferenceJsonl.write(d.resolve("eval.jsonl"), TinyData.patterned(8, 200));
        List<PreferenceRecord> both = new ArrayList<>();
        TinyData.patterned(6, 5).forEach(r -> both.add(PreferenceRecord.sft(r.prompt().get(0).content(),
                r.sourceChosen())));
        both.addAll(TinyData.patterned(8, 6));
        PreferenceJsonl.write(d.resolve("both.jsonl"), both);
    }

    private static boolean sameBytes(Path a, Path b) throws IOException {
        return Arrays.equals(Files.readAllBytes(a.resolve("model.safetensors")),
                Files.readAllBytes(b.resolve("model.safetensors")));
    }

    private static double maxDiff(Path a, Path b) {
        double max = 0;
        try (HfModelDir x = HfModelDir.open(a); HfModelDir y = HfModelDir.open(b)) {
            for (String n : x.tensorNames()) {
                float[] p = x.tensor(n).toFloatArray();
                float[] q = y.tensor(n).toFloatArray();
                for (int i = 0; i < p.length; i++) {
                    max = Math.max(max, Math.abs(p[i] - q[i]));
                }
            }
        }
        return max;
    }
}
