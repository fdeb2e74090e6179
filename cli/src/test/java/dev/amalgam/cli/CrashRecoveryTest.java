package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Crash safety of {@code amalgam up}: a pruning, a fusion and a merge job run at once; the platform's JVM
 * is killed with SIGKILL (in one variant together with its PostgreSQL) at a random point after the
 * pruning and fusion jobs saved their first checkpoint; {@code amalgam up} on the same data directory
 * starts, recovers, and each job completes exactly once with outputs byte-identical to an uninterrupted run.
 *
 * <p>Rounds: {@code -Dcrash.rounds=N} (default 5: each job type is killed five times, three times with the JVM
 * alone and twice with PostgreSQL); {@code -Dcrash.rounds=10} runs each variant five times. The platform runs with one PyTorch thread and {@code MKL_CBWR=COMPATIBLE}, the
 * settings under which training is reproducible bit for bit (fusion/README.md).
 */
class CrashRecoveryTest {

    static final String KEY = "amk_crash_test_admin_key_0123456789";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final Pattern UP = Pattern.compile("Amalgam is up at (http://localhost:\\d+)");

    @TempDir
    Path dir;

    Process platform;
    String base;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @AfterEach
    void stopPlatform() throws Exception {
        if (platform != null && platform.isAlive()) {
            platform.destroy();
            if (!platform.waitFor(60, TimeUnit.SECONDS)) {
                platform.destroyForcibly();
            }
        }
        EmbeddedDatabase.postmaster(dir.resolve("data/postgres")).ifPresent(ProcessHandle::destroy);
    }

    @Test
    void jobsRunningWhenThePlatformIsKilledCompleteExactlyOnceWithTheOutputsOfAnUninterruptedRun() throws Exception {
        int rounds = Integer.getInteger("crash.rounds", 5);
        Path imports = Files.createDirectories(dir.resolve("import"));
        writeInputs(imports);
        start();
        log("platform up");
        for (String[] a : new String[][] {{"MODEL", "base", "base"}, {"MODEL", "a", "a"}, {"MODEL", "b", "b"},
                {"MODEL", "small", "small"}, {"DATASET", "calib", "calib.jsonl"}, {"DATASET", "prefs", "prefs.jsonl"}}) {
            HttpResponse<String> r = post("/api/v1/artifacts/import",
                    "{\"kind\":\"" + a[0] + "\",\"name\":\"" + a[1] + "\",\"path\":\"" + a[2] + "\"}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        }

        // the uninterrupted run every crashed run must reproduce
        Map<String, UUID> reference = submitAll("ref");
        for (UUID id : reference.values()) {
            assertThat(awaitFinal(id).path("status").asString()).isEqualTo("SUCCEEDED");
        }
        Map<String, Map<String, String>> expected = new TreeMap<>();
        for (Map.Entry<String, UUID> e : reference.entrySet()) {
            expected.put(e.getKey(), modelFiles(e.getValue()));
        }

        log("uninterrupted reference run done");
        Random random = new Random(Long.getLong("crash.seed", 20261201L));
        Map<String, Integer> kills = new TreeMap<>();
        for (int round = 0; round < rounds; round++) {
            boolean withPostgres = round % 2 == 1;
            String prefix = "r" + round;
            Map<String, UUID> jobs = new LinkedHashMap<>();
            jobs.put("prune", submit(pruneSpec(prefix + "-pruned")));
            jobs.put("fuse", submit(fuseSpec(prefix + "-fused")));
            awaitCheckpoints(jobs.get("prune"), jobs.get("fuse"));
            log("round " + round + ": first checkpoints saved");
            // the merge keeps no checkpoint: it is submitted last, so that it runs when the kill comes
            jobs.put("merge", submit(mergeSpec(prefix + "-merged")));
            awaitRunning(jobs.get("merge"));
            Thread.sleep(random.nextInt(400));
            List<String> stillRunning = new ArrayList<>();
            for (Map.Entry<String, UUID> e : jobs.entrySet()) {
                if (job(e.getValue()).path("status").asString().equals("RUNNING")) {
                    stillRunning.add(e.getKey());
                }
            }
            stillRunning.forEach(type -> kills.merge(type, 1, Integer::sum));
            kill(withPostgres);
            log("round " + round + ": killed " + stillRunning + (withPostgres ? " with PostgreSQL" : ""));
            start();
            log("round " + round + ": up again");
            for (Map.Entry<String, UUID> e : jobs.entrySet()) {
                JsonNode end = awaitFinal(e.getValue());
                String what = prefix + " " + e.getKey() + (withPostgres ? " (JVM and PostgreSQL killed)" : " (JVM killed)");
                assertThat(end.path("status").asString()).as(what + ": " + end.path("error")).isEqualTo("SUCCEEDED");
                assertThat(modelFiles(e.getValue())).as(what + ": outputs as uninterrupted").isEqualTo(expected.get(e.getKey()));
                assertThat(end.path("outputs").size()).as(what + ": each output exactly once").isEqualTo(
                        job(reference.get(e.getKey())).path("outputs").size());
            }
            assertThat(stillRunning).as("round %d killed running jobs", round).isNotEmpty();
            assertThat(names(prefix)).as("no duplicate outputs").doesNotHaveDuplicates();
            log("round " + round + ": every job completed once, as uninterrupted");
        }
        log("kills while running, per job type: " + kills);
        assertThat(kills.keySet()).as("every job type was killed mid-run").containsExactly("fuse", "merge", "prune");
    }

    private final long started = System.nanoTime();

    /** Where the test's time goes, on stdout (the surefire report keeps it). */
    private void log(String what) {
        System.out.printf("[crash] %6.1f s  %s%n", (System.nanoTime() - started) / 1e9, what);
    }

    // ---- the jobs ----

    static void writeInputs(Path imports) throws IOException {
        // big enough that a merge takes a moment, small enough for the suite
        TinySizes wide = new TinySizes(384, 1536, 12, 6, 2, 256, DType.BF16);
        TinyModels.write(Architecture.LLAMA, imports.resolve("base"), wide, 1);
        TinyModels.write(Architecture.LLAMA, imports.resolve("a"), wide, 2);
        TinyModels.write(Architecture.LLAMA, imports.resolve("b"), wide, 3);
        TinyModels.write(Architecture.LLAMA, imports.resolve("small"), new TinySizes(64, 128, 8, 4, 2, 256, DType.BF16), 4);
        writeCalibration(imports.resolve("calib.jsonl"), 24);
        writePreferences(imports.resolve("prefs.jsonl"), 96);
    }

    /** {@code rows} lines of 40 random words, the same for a given row count (seeded). */
    static void writeCalibration(Path file, int rows) throws IOException {
        StringBuilder calib = new StringBuilder();
        Random r = new Random(5);
        String[] words = "the a model merges prunes fuses layers blocks attention tokens data text".split(" ");
        for (int i = 0; i < rows; i++) {
            StringBuilder line = new StringBuilder();
            for (int w = 0; w < 40; w++) {
                line.append(words[r.nextInt(words.length)]).append(' ');
            }
            calib.append("{\"text\": \"").append(line.toString().trim()).append("\"}\n");
        }
        Files.writeString(file, calib);
    }

    /** {@code count} preference records "count to i". */
    static void writePreferences(Path file, int count) throws IOException {
        List<PreferenceRecord> prefs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            prefs.add(PreferenceRecord.preference("count to " + i, "1 2 3 " + i, "1 2 " + i, "no"));
        }
        PreferenceJsonl.write(file, prefs);
    }

    static String pruneSpec(String name) {
        return """
                {"model": "small", "dataset": "calib", "name": "%s", "method": "blockpruner", "blocks": 6,
                 "samples": 24, "seqLen": 64, "batchSize": 4}""".formatted(name);
    }

    static String fuseSpec(String name) {
        return """
                {"target": "small", "data": "prefs", "name": "%s", "stages": ["sft", "wrpo"], "loss": "wrpo",
                 "epochs": 1, "lr": 0.001, "sftLr": 0.001, "beta": 0.1, "batchSize": 2, "gradAccum": 2,
                 "maxLength": 48, "maxPromptLength": 24, "device": "cpu", "checkpointEvery": 2, "outputDtype": "fp32"}"""
                .formatted(name);
    }

    static String mergeSpec(String name) {
        return """
                {"configYaml": "merge_method: ties\\nbase_model: base\\nmodels:\\n  - model: a\\n    parameters: {weight: 0.5, density: 0.5}\\n  - model: b\\n    parameters: {weight: 0.5, density: 0.5}\\ndtype: bfloat16\\n",
                 "output": "%s"}""".formatted(name);
    }

    Map<String, UUID> submitAll(String prefix) throws Exception {
        Map<String, UUID> ids = new TreeMap<>();
        ids.put("prune", submit(pruneSpec(prefix + "-pruned")));
        ids.put("fuse", submit(fuseSpec(prefix + "-fused")));
        ids.put("merge", submit(mergeSpec(prefix + "-merged")));
        return ids;
    }

    UUID submit(String spec) throws Exception {
        String path = spec.contains("configYaml") ? "/api/v1/merges" : spec.contains("\"target\"") ? "/api/v1/fusions" : "/api/v1/prunings";
        HttpResponse<String> r = post(path, spec);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return UUID.fromString(JSON.readTree(r.body()).get("id").asString());
    }

    /** path -> sha256 of every file of the job's MODEL output. */
    Map<String, String> modelFiles(UUID jobId) throws Exception {
        JsonNode job = job(jobId);
        JsonNode result = job.path("result");
        String artifact = result.has("model") ? result.get("model").asString() : result.get("artifact").asString();
        JsonNode files = JSON.readTree(get("/api/v1/artifacts/" + artifact + "/files").body());
        Map<String, String> out = new TreeMap<>();
        files.forEach(f -> out.put(f.get("path").asString(), f.get("sha256").asString()));
        return out;
    }

    List<String> names(String prefix) throws Exception {
        JsonNode page = JSON.readTree(get("/api/v1/artifacts?size=200&name=" + prefix + "-").body());
        List<String> names = new ArrayList<>();
        page.get("items").forEach(a -> names.add(a.get("name").asString()));
        return names;
    }

    // ---- the platform as a child process ----

    void start() throws Exception {
        Path data = dir.resolve("data");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx3g", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1",
                "-cp", System.getProperty("java.class.path"), Amalgam.class.getName(),
                "up", "--port", "0", "--data-dir", data.toString(), "--import-root", dir.resolve("import").toString());
        pb.environment().put("AMALGAM_API_KEY", KEY);
        pb.environment().put("MKL_CBWR", "COMPATIBLE");
        pb.environment().put("MKL_NUM_THREADS", "1");
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.redirectErrorStream(true);
        Path log = dir.resolve("platform.log");
        platform = pb.start();
        CompletableFuture<String> url = new CompletableFuture<>();
        Process p = platform;
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    Files.writeString(log, line + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                    Matcher m = UP.matcher(line);
                    if (m.find()) {
                        url.complete(m.group(1));
                    }
                }
            } catch (IOException ignored) {
                // the process was killed
            }
            url.completeExceptionally(new IllegalStateException("the platform exited before it was up; see " + log));
        }, "platform-output");
        reader.setDaemon(true);
        reader.start();
        base = url.get(180, TimeUnit.SECONDS);
    }

    /** SIGKILL of the platform's JVM, and of its PostgreSQL postmaster too when asked. */
    void kill(boolean withPostgres) throws Exception {
        ProcessHandle postmaster = EmbeddedDatabase.postmaster(dir.resolve("data/postgres")).orElseThrow();
        platform.destroyForcibly();
        assertThat(platform.waitFor(30, TimeUnit.SECONDS)).isTrue();
        if (withPostgres) {
            postmaster.destroyForcibly();
            postmaster.onExit().get(30, TimeUnit.SECONDS);
        }
    }

    // ---- watching jobs ----

    void awaitCheckpoints(UUID prune, UUID fuse) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        boolean pruneSaved = false;
        boolean fuseSaved = false;
        Path fuseCheckpoints = dir.resolve("data").resolve("work").resolve(fuse.toString()).resolve("checkpoints");
        while (System.nanoTime() < deadline) {
            pruneSaved |= hasCheckpointRow(prune);
            fuseSaved |= Files.isDirectory(fuseCheckpoints) && hasEntries(fuseCheckpoints)
                    // finished before a poll saw its checkpoint: the round still checks its outputs
                    || !job(fuse).path("status").asString().equals("RUNNING") && !job(fuse).path("status").asString().equals("QUEUED");
            if (pruneSaved && fuseSaved) {
                return;
            }
            assertThat(job(prune).path("status").asString()).as("pruning still running").isIn("QUEUED", "RUNNING");
            Thread.sleep(50);
        }
        throw new AssertionError("no checkpoints within 5 minutes");
    }

    void awaitRunning(UUID id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode job = job(id);
            if (job.path("status").asString().equals("RUNNING") && job.path("progress").asDouble() > 0) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("job " + id + " did not start");
    }

    boolean hasCheckpointRow(UUID id) throws Exception {
        List<String> pid = Files.readAllLines(dir.resolve("data/postgres/postmaster.pid"));
        String password = Files.readString(dir.resolve("data/postgres-password")).trim();
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://localhost:" + pid.get(3).trim() + "/amalgam",
                EmbeddedDatabase.USER, password);
             PreparedStatement s = c.prepareStatement("select checkpoint is not null from jobs where id = ?")) {
            s.setObject(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** Whether a fusion's checkpoint directory holds a finished checkpoint (one being written ends in ".tmp"). */
    static boolean hasEntries(Path d) throws IOException {
        try (var s = Files.list(d)) {
            return s.anyMatch(p -> !p.getFileName().toString().endsWith(".tmp"));
        }
    }

    JsonNode awaitFinal(UUID id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode job = job(id);
            String status = job.path("status").asString();
            if (status.equals("SUCCEEDED") || status.equals("FAILED") || status.equals("CANCELLED")) {
                return job;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("job " + id + " did not finish");
    }

    JsonNode job(UUID id) throws Exception {
        HttpResponse<String> r = get("/api/v1/jobs/" + id);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + KEY)
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
