package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The platform as it is deployed: a standalone PostgreSQL server, and every process of
 * {@code deploy/processes.yml} (the gateway, each service in the api role, and two workers per service) as
 * a JVM of its own running {@code amalgam serve ...} with the definition's environment, all sharing one
 * data directory. Jobs of every type (merge, prune, evaluate, fuse) run through the gateway; then
 * <ul>
 *   <li>the worker holding a pruning job and the one holding a fusion job are killed with SIGKILL after
 *       their first checkpoint: the other worker of each type takes the job over when its lease expires,
 *       resumes it from the checkpoint, and its outputs are byte-identical to those of the uninterrupted run;</li>
 *   <li>PostgreSQL is stopped and started again while jobs of every type run, and a job is submitted during
 *       the outage: afterwards every job has completed exactly once (one attempt, outputs published once,
 *       no job lost or duplicated).</li>
 * </ul>
 */
class MultiProcessPlatformTest {

    static final String KEY = CrashRecoveryTest.KEY;

    private static final String CREDENTIALS_KEY = java.util.Base64.getEncoder().encodeToString(new byte[32]);
    /** Where a worker's lease owner names its process: {@code <host>-<pid>-<8 hex>/<thread>}. */
    static final Pattern OWNER_PID = Pattern.compile("-(\\d+)-[0-9a-f]{8}/[^/]+$");

    @TempDir
    Path dir;

    Path data;
    Path imports;
    Path pgData;
    Path logs;
    int pgPort;
    EmbeddedPostgres postgres;
    List<ProcessDefinitions.Process> definitions;
    /** Definition host:port (postgres:5432, merge-api:8081, ...) to where it listens on this host. */
    final Map<String, String> addresses = new LinkedHashMap<>();
    final List<Running> running = Collections.synchronizedList(new ArrayList<>());
    String gateway;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** A started process of the definition. */
    record Running(ProcessDefinitions.Process definition, int port, Process process, Path log) {
    }

    @AfterEach
    void stopAll() throws Exception {
        for (Running r : running) {
            r.process().destroy();
        }
        for (Running r : running) {
            if (!r.process().waitFor(30, TimeUnit.SECONDS)) {
                r.process().destroyForcibly();
            }
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    void jobsSurviveAKilledWorkerAndAPostgresRestartAndRunExactlyOnce() throws Exception {
        long t0 = System.nanoTime();
        data = Files.createDirectories(dir.resolve("data"));
        imports = Files.createDirectories(dir.resolve("import"));
        pgData = dir.resolve("pg");
        pgPort = freePort();
        startPostgres();
        try (Connection c = postgres.getPostgresDatabase().getConnection()) {
            c.createStatement().execute("create database amalgam");
        }
        writeInputs(imports);
        // the processes' logs stay after the test, for a failure's diagnosis
        logs = Files.createDirectories(Path.of("target/multiprocess-logs").toAbsolutePath());
        Files.writeString(logs.resolve("classpath.txt"), System.getProperty("java.class.path"));

        definitions = ProcessDefinitions.load();
        addresses.put("postgres:5432", "127.0.0.1:" + pgPort);
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (ProcessDefinitions.Process p : definitions) {
            if (!p.isWorker()) {
                ports.put(p.name(), freePort());
                addresses.put(p.name() + ":" + p.port(), "127.0.0.1:" + ports.get(p.name()));
            }
        }
        // every process at once; two of each worker
        for (ProcessDefinitions.Process p : definitions) {
            launch(p, p.isWorker() ? freePort() : ports.get(p.name()), "");
            if (p.isWorker()) {
                launch(p, freePort(), "-2");
            }
        }
        assertThat(running).hasSize(10);
        awaitHealthy(List.copyOf(running));
        gateway = "http://127.0.0.1:" + ports.get("gateway");
        log("%d processes up after %.0f s", running.size(), seconds(t0));

        for (String[] a : new String[][] {{"MODEL", "base", "base"}, {"MODEL", "a", "a"}, {"MODEL", "b", "b"},
                {"MODEL", "small", "small"}, {"DATASET", "calib", "calib.jsonl"}, {"DATASET", "prefs", "prefs.jsonl"}}) {
            HttpResponse<String> r = post("/api/v1/artifacts/import",
                    "{\"kind\":\"" + a[0] + "\",\"name\":\"" + a[1] + "\",\"path\":\"" + a[2] + "\"}", null);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        }
        List<UUID> submitted = new ArrayList<>();

        // the uninterrupted run: one job of every type
        long t1 = System.nanoTime();
        Map<String, UUID> reference = submitAll("ref");
        submitted.addAll(reference.values());
        Map<String, JsonNode> expected = new TreeMap<>();
        for (Map.Entry<String, UUID> e : reference.entrySet()) {
            JsonNode end = awaitFinal(e.getValue());
            assertThat(end.path("status").asString()).as("ref " + e.getKey() + ": " + end.path("error")).isEqualTo("SUCCEEDED");
            assertThat(end.path("attempts").asInt()).as("ref " + e.getKey()).isEqualTo(1);
            expected.put(e.getKey(), outcome(e.getKey(), end));
        }
        log("reference jobs done after %.0f s", seconds(t1));

        // kill -9 the worker of a pruning and of a fusion job once each saved its first checkpoint
        long t2 = System.nanoTime();
        Map<String, UUID> killed = new TreeMap<>();
        killed.put("prune", submit(pruneSpec("k-pruned"), null));
        killed.put("fuse", submit(CrashRecoveryTest.fuseSpec("k-fused"), null));
        submitted.addAll(killed.values());
        Map<String, Running> victims = new TreeMap<>();
        for (Map.Entry<String, UUID> e : killed.entrySet()) {
            awaitCheckpoint(e.getKey(), e.getValue());
            Running holder = leaseHolder(e.getValue());
            holder.process().destroyForcibly();
            assertThat(holder.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            running.remove(holder);
            victims.put(e.getKey(), holder);
            log("killed %s (pid %d) holding the %s job", holder.definition().name(), holder.process().pid(), e.getKey());
        }
        Map<String, Running> survivors = new TreeMap<>();
        for (Map.Entry<String, UUID> e : killed.entrySet()) {
            // the other worker of the type takes the job over once the lease of the dead one has expired
            Running survivor = running.stream()
                    .filter(r -> r.definition() == victims.get(e.getKey()).definition()).findFirst().orElseThrow();
            survivors.put(e.getKey(), survivor);
            awaitTakeover(e.getValue(), survivor);
            // a worker pod that dies is restarted; the new one must not take part in this job
            launch(survivor.definition(), freePort(), "-restarted");
        }
        for (Map.Entry<String, UUID> e : killed.entrySet()) {
            String what = "killed " + e.getKey();
            JsonNode end = awaitFinal(e.getValue());
            assertThat(end.path("status").asString()).as(what + ": " + end.path("error")).isEqualTo("SUCCEEDED");
            assertThat(end.path("attempts").asInt()).as(what + ": one attempt died, the next finished").isEqualTo(2);
            List<Long> workers = runningEventPids(e.getValue());
            assertThat(workers).as(what + ": the workers that ran it").hasSize(2);
            assertThat(workers.get(0)).as(what + ": first attempt").isEqualTo(victims.get(e.getKey()).process().pid());
            assertThat(workers.get(1)).as(what + ": second attempt on the other worker of the type")
                    .isEqualTo(survivors.get(e.getKey()).process().pid());
            assertThat(outcome(e.getKey(), end)).as(what + ": outputs as uninterrupted").isEqualTo(expected.get(e.getKey()));
        }
        // resumed from the checkpoint, not started over
        assertThat(logEvents(killed.get("prune"))).anyMatch(m -> m.startsWith("Resuming after step"));
        assertThat(job(killed.get("fuse")).path("result").path("resumed").asBoolean()).as("fusion resumed").isTrue();
        log("kill round done after %.0f s", seconds(t2));

        // PostgreSQL stopped and started again while a job of every type runs
        long t3 = System.nanoTime();
        awaitHealthy(List.copyOf(running));
        Map<String, UUID> outage = submitAll("p");
        submitted.addAll(outage.values());
        awaitRunning(outage.get("prune"), outage.get("fuse"));
        List<String> runningAtStop = new ArrayList<>();
        for (Map.Entry<String, UUID> e : outage.entrySet()) {
            if ("RUNNING".equals(queryString("select status from jobs where id = ?", e.getValue()))) {
                runningAtStop.add(e.getKey());
            }
        }
        assertThat(runningAtStop).as("jobs running when PostgreSQL stops").contains("prune", "fuse");
        postgres.close();
        postgres = null;
        HttpResponse<String> refused = submitRaw(CrashRecoveryTest.mergeSpec("p-merged-2"), "outage-merge");
        assertThat(refused.statusCode()).as("a submission while the database is down: " + refused.body()).isEqualTo(503);
        startPostgres();
        log("PostgreSQL restarted");
        UUID retried = submitUntilAccepted(CrashRecoveryTest.mergeSpec("p-merged-2"), "outage-merge");
        outage.put("merge-2", retried);
        submitted.add(retried);
        assertThat(submit(CrashRecoveryTest.mergeSpec("p-merged-2"), "outage-merge")).as("a retry is answered with the first job")
                .isEqualTo(retried);
        expected.put("merge-2", expected.get("merge"));
        for (Map.Entry<String, UUID> e : outage.entrySet()) {
            String what = "outage " + e.getKey();
            JsonNode end = awaitFinal(e.getValue());
            assertThat(end.path("status").asString()).as(what + ": " + end.path("error")).isEqualTo("SUCCEEDED");
            assertThat(end.path("attempts").asInt()).as(what + ": ran once").isEqualTo(1);
            assertThat(runningEventPids(e.getValue())).as(what + ": claimed once").hasSize(1);
            assertThat(outcome(e.getKey().replace("-2", ""), end)).as(what + ": outputs as uninterrupted")
                    .isEqualTo(expected.get(e.getKey()));
        }
        log("PostgreSQL round done after %.0f s", seconds(t3));

        // no job lost, none created twice, every output published exactly once
        assertThat(jobIds()).containsExactlyInAnyOrderElementsOf(submitted);
        List<String> names = new ArrayList<>();
        JsonNode page = CrashRecoveryTest.JSON.readTree(get("/api/v1/artifacts?size=200").body());
        page.get("items").forEach(a -> names.add(a.get("name").asString()));
        assertThat(names).doesNotHaveDuplicates().contains("k-pruned", "k-fused", "p-merged", "p-merged-2", "p-pruned", "p-fused");
        assertThat(running).as("no process died on its own").allMatch(r -> r.process().isAlive());
        log("total %.0f s", seconds(t0));
    }

    // ---- the jobs ----

    /** Tiny models and data: the jobs take seconds, and ten JVMs share the machine. */
    static void writeInputs(Path imports) throws IOException {
        TinySizes tiny = new TinySizes(64, 128, 8, 4, 2, 256, DType.BF16);
        TinyModels.write(Architecture.LLAMA, imports.resolve("base"), tiny, 1);
        TinyModels.write(Architecture.LLAMA, imports.resolve("a"), tiny, 2);
        TinyModels.write(Architecture.LLAMA, imports.resolve("b"), tiny, 3);
        TinyModels.write(Architecture.LLAMA, imports.resolve("small"), tiny, 4);
        CrashRecoveryTest.writeCalibration(imports.resolve("calib.jsonl"), 16);
        CrashRecoveryTest.writePreferences(imports.resolve("prefs.jsonl"), 64);
    }

    static String pruneSpec(String name) {
        return """
                {"model": "small", "dataset": "calib", "name": "%s", "method": "blockpruner", "blocks": 4,
                 "samples": 8, "seqLen": 64, "batchSize": 4}""".formatted(name);
    }

    static String evaluateSpec() {
        return "{\"model\": \"small\", \"dataset\": \"calib\", \"seqLen\": 64}";
    }

    Map<String, UUID> submitAll(String prefix) throws Exception {
        Map<String, UUID> ids = new TreeMap<>();
        ids.put("prune", submit(pruneSpec(prefix + "-pruned"), null));
        ids.put("fuse", submit(CrashRecoveryTest.fuseSpec(prefix + "-fused"), null));
        ids.put("merge", submit(CrashRecoveryTest.mergeSpec(prefix + "-merged"), null));
        ids.put("evaluate", submit(evaluateSpec(), null));
        return ids;
    }

    UUID submit(String spec, String idempotencyKey) throws Exception {
        HttpResponse<String> r = submitRaw(spec, idempotencyKey);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return UUID.fromString(CrashRecoveryTest.JSON.readTree(r.body()).get("id").asString());
    }

    HttpResponse<String> submitRaw(String spec, String idempotencyKey) throws Exception {
        String path = spec.contains("configYaml") ? "/api/v1/merges" : spec.contains("\"target\"") ? "/api/v1/fusions"
                : spec.contains("\"method\"") ? "/api/v1/prunings" : "/api/v1/evaluations";
        return post(path, spec, idempotencyKey);
    }

    UUID submitUntilAccepted(String spec, String idempotencyKey) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            HttpResponse<String> r = submitRaw(spec, idempotencyKey);
            if (r.statusCode() == 202) {
                return UUID.fromString(CrashRecoveryTest.JSON.readTree(r.body()).get("id").asString());
            }
            assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
            assertThat(System.nanoTime()).as("accepted again after the restart").isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    /** What a job made: the sha256 of every file of its MODEL output, or its result for an evaluation. */
    JsonNode outcome(String type, JsonNode job) throws Exception {
        JsonNode result = job.path("result");
        if (type.equals("evaluate")) {
            return result;
        }
        String artifact = result.has("model") ? result.get("model").asString() : result.get("artifact").asString();
        JsonNode files = CrashRecoveryTest.JSON.readTree(get("/api/v1/artifacts/" + artifact + "/files").body());
        Map<String, String> out = new TreeMap<>();
        files.forEach(f -> out.put(f.get("path").asString(), f.get("sha256").asString()));
        assertThat(out).as(type + " model files").isNotEmpty();
        return CrashRecoveryTest.JSON.valueToTree(Map.of("files", out, "outputs", job.path("outputs").size()));
    }

    // ---- the processes ----

    void startPostgres() throws IOException {
        postgres = EmbeddedPostgres.builder()
                .setDataDirectory(pgData)
                .setCleanDataDirectory(false)
                .setPort(pgPort)
                // ten processes with their connection pools
                .setServerConfig("max_connections", "300")
                .setPGStartupWait(Duration.ofSeconds(60))
                .start();
    }

    /**
     * Starts one process of the definition: {@code amalgam <command>} with the definition's environment,
     * changed only where all processes share this one host, plus the test's own settings.
     */
    Running launch(ProcessDefinitions.Process p, int port, String suffix) throws IOException {
        String name = p.name() + suffix;
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // small JVMs: ten of them share the machine, and the jobs are tiny
                p.isWorker() ? "-Xmx512m" : "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                // one PyTorch thread per worker, as in every attempt of a job: fusion resumes bit for bit
                "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1",
                "-cp", System.getProperty("java.class.path"), Amalgam.class.getName()));
        cmd.addAll(p.command());
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("AMALGAM_") || k.startsWith("SPRING_") || k.startsWith("SERVER_"));
        env.putAll(onThisHost(p.environment()));
        env.put("SERVER_PORT", Integer.toString(port));
        for (String secret : p.secrets()) {
            env.put(secret, switch (secret) {
                case "SPRING_DATASOURCE_USERNAME" -> EmbeddedDatabase.USER;
                case "SPRING_DATASOURCE_PASSWORD" -> "unused";
                case "AMALGAM_API_KEY" -> KEY;
                // one key for every process, as a deployment must give them
                case "AMALGAM_CREDENTIALS_MASTER_KEY" -> CREDENTIALS_KEY;
                default -> throw new IllegalStateException("no test value for the secret " + secret);
            });
        }
        // short leases, so that a killed worker's job is taken over within seconds, not a minute
        env.put("AMALGAM_WORKER_LEASE", "15s");
        env.put("AMALGAM_WORKER_HEARTBEAT", "2s");
        env.put("AMALGAM_WORKER_POLL_INTERVAL", "1s");
        // the settings under which training is reproducible bit for bit (fusion/README.md); the image sets PASSIVE
        env.put("MKL_CBWR", "COMPATIBLE");
        env.put("MKL_NUM_THREADS", "1");
        env.put("OMP_NUM_THREADS", "1");
        env.put("OMP_WAIT_POLICY", "PASSIVE");
        env.put("SPRING_MAIN_BANNER_MODE", "off");
        env.put("LOGGING_LEVEL_ROOT", "WARN");
        env.put("LOGGING_LEVEL_DEV_AMALGAM", "INFO");
        Path log = logs.resolve(name + ".log");
        pb.redirectErrorStream(true);
        pb.redirectOutput(log.toFile());
        Running r = new Running(p, port, pb.start(), log);
        running.add(r);
        return r;
    }

    /** The definition's environment where every process runs on this host: its addresses, ports and directories. */
    Map<String, String> onThisHost(Map<String, String> environment) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : environment.entrySet()) {
            String value = e.getValue();
            for (Map.Entry<String, String> a : addresses.entrySet()) {
                value = value.replace("//" + a.getKey() + "/", "//" + a.getValue() + "/");
                if (value.endsWith("//" + a.getKey())) {
                    value = value.replace("//" + a.getKey(), "//" + a.getValue());
                }
            }
            value = switch (value) {
                case "/data" -> data.toString();
                case "/import" -> imports.toString();
                default -> value;
            };
            assertThat(value).as(e.getKey() + " still names a host of the definition").doesNotContainPattern("//[a-z-]+:\\d+");
            out.put(e.getKey(), value);
        }
        return out;
    }

    void awaitHealthy(List<Running> processes) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        for (Running r : processes) {
            while (true) {
                assertThat(r.process().isAlive()).as(r.definition().name() + " exited; its log:\n" + tail(r.log())).isTrue();
                try {
                    HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + r.port() + "/actuator/health")).timeout(Duration.ofSeconds(10)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (health.statusCode() == 200) {
                        break;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                assertThat(System.nanoTime()).as(r.definition().name() + " healthy in time; its log:\n" + tail(r.log()))
                        .isLessThan(deadline);
                Thread.sleep(250);
            }
        }
    }

    /** The running worker whose process holds the job's lease. */
    Running leaseHolder(UUID id) throws Exception {
        String owner = queryString("select lease_owner from jobs where id = ?", id);
        Matcher m = OWNER_PID.matcher(owner);
        assertThat(m.find()).as("lease owner " + owner).isTrue();
        long pid = Long.parseLong(m.group(1));
        return running.stream().filter(r -> r.process().pid() == pid).findFirst()
                .orElseThrow(() -> new AssertionError("no started process holds the lease " + owner));
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    // ---- watching jobs (in the database: the gateway limits requests per key) ----

    void awaitCheckpoint(String type, UUID id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        Path fusionCheckpoints = data.resolve("work/" + id + "/checkpoints");
        while (System.nanoTime() < deadline) {
            boolean saved = type.equals("prune") ? queryString("select checkpoint::text from jobs where id = ?", id) != null
                    : hasCompleteCheckpoint(fusionCheckpoints);
            String status = queryString("select status from jobs where id = ?", id);
            assertThat(status).as(type + " job still running").isIn("QUEUED", "RUNNING");
            if (saved && status.equals("RUNNING")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no checkpoint of the " + type + " job in time");
    }

    /** Whether a fusion work directory holds a finished checkpoint (one being written is a {@code .tmp} directory). */
    static boolean hasCompleteCheckpoint(Path checkpoints) throws IOException {
        if (!Files.isDirectory(checkpoints)) {
            return false;
        }
        try (var entries = Files.list(checkpoints)) {
            return entries.anyMatch(c -> !c.getFileName().toString().endsWith(".tmp") && Files.isRegularFile(c.resolve("state.json")));
        }
    }

    void awaitTakeover(UUID id, Running survivor) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < deadline) {
            if (runningEventPids(id).size() >= 2) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("not taken over by " + survivor.definition().name() + ": " + describe(id));
    }

    void awaitRunning(UUID... ids) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        for (UUID id : ids) {
            while (!"RUNNING".equals(queryString("select case when progress > 0 then status end from jobs where id = ?", id))) {
                assertThat(queryString("select status from jobs where id = ?", id)).as(describe(id)).isIn("QUEUED", "RUNNING");
                assertThat(System.nanoTime()).as("running in time: " + describe(id)).isLessThan(deadline);
                Thread.sleep(100);
            }
        }
    }

    /** A job's row as the registry has it, for failure messages. */
    String describe(UUID id) throws Exception {
        return queryString("select row_to_json(j)::text from (select id, type, status, attempts, lease_owner, lease_expires_at,"
                + " progress, progress_message, error from jobs where id = ?) j", id);
    }

    JsonNode awaitFinal(UUID id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (System.nanoTime() < deadline) {
            String status = queryString("select status from jobs where id = ?", id);
            if (List.of("SUCCEEDED", "FAILED", "CANCELLED").contains(status)) {
                log("job %s", queryString("select type || ' ' || status || ': queued ' || round(extract(epoch from started_at - created_at))"
                        + " || ' s, ran ' || round(extract(epoch from finished_at - started_at)) || ' s' from jobs where id = ?", id));
                return job(id);
            }
            Thread.sleep(250);
        }
        throw new AssertionError("job did not finish: " + describe(id));
    }

    /** The pids of the workers that claimed the job, in order (from its RUNNING events). */
    List<Long> runningEventPids(UUID id) throws Exception {
        List<Long> pids = new ArrayList<>();
        for (String worker : queryStrings("select payload->>'worker' from job_events where job_id = ? and kind = 'STATUS'"
                + " and payload->>'status' = 'RUNNING' order by seq", id)) {
            Matcher m = OWNER_PID.matcher(worker);
            assertThat(m.find()).as("worker " + worker).isTrue();
            pids.add(Long.parseLong(m.group(1)));
        }
        return pids;
    }

    List<String> logEvents(UUID id) throws Exception {
        return queryStrings("select payload->>'message' from job_events where job_id = ? and kind = 'LOG' order by seq", id);
    }

    List<UUID> jobIds() throws Exception {
        List<UUID> ids = new ArrayList<>();
        try (Connection c = database(); ResultSet rs = c.createStatement().executeQuery("select id from jobs")) {
            while (rs.next()) {
                ids.add(rs.getObject(1, UUID.class));
            }
        }
        return ids;
    }

    String queryString(String sql, UUID id) throws Exception {
        List<String> values = queryStrings(sql, id);
        return values.isEmpty() ? null : values.get(0);
    }

    List<String> queryStrings(String sql, UUID id) throws Exception {
        try (Connection c = database(); PreparedStatement s = c.prepareStatement(sql)) {
            s.setObject(1, id);
            List<String> out = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    Connection database() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pgPort + "/amalgam", EmbeddedDatabase.USER, "unused");
    }

    // ---- the gateway ----

    JsonNode job(UUID id) throws Exception {
        HttpResponse<String> r = get("/api/v1/jobs/" + id);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return CrashRecoveryTest.JSON.readTree(r.body());
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(gateway + path)).header("Authorization", "Bearer " + KEY)
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String body, String idempotencyKey) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gateway + path)).header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (idempotencyKey != null) {
            b.header("Idempotency-Key", idempotencyKey);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    static void log(String format, Object... args) {
        System.out.printf("MultiProcessPlatformTest: " + format + "%n", args);
    }
}
