package dev.amalgam.modelengine.judge;

import dev.amalgam.job.Progress;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Runs a benchmark's judge tasks one after another against a {@link ChatClient}, appending each judgment record to
 * a JSON Lines file as soon as it is made (flushed), so that a failure keeps every judgment made before it and a
 * later run on the same file judges only what is missing.
 */
public final class Judging {

    /** The judging modes. */
    public enum Benchmark {
        /** MT-Bench single-answer grading, 1..10 per turn. */
        MT_BENCH("mt_bench"),
        /** AlpacaEval pairwise, the judge's text answer m / M. */
        ALPACA_EVAL("alpaca_eval"),
        /** AlpacaEval pairwise, the weighted annotator: preference from the first token's log-probabilities. */
        ALPACA_EVAL_WEIGHTED("alpaca_eval_weighted"),
        /** Arena-Hard-Auto pairwise against a baseline, two games per question. */
        ARENA_HARD("arena_hard");

        private final String id;

        Benchmark(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        public static List<String> ids() {
            return java.util.Arrays.stream(values()).map(Benchmark::id).toList();
        }

        public static Benchmark of(String id) {
            for (Benchmark b : values()) {
                if (b.id.equals(id)) {
                    return b;
                }
            }
            throw new IllegalArgumentException("unknown benchmark '" + id + "' (one of " + String.join(", ", ids()) + ")");
        }

        /** Whether the benchmark compares the answers with a baseline's. */
        public boolean pairwise() {
            return this != MT_BENCH;
        }

        /** Whether the benchmark reads a questions file (AlpacaEval's outputs carry their instructions). */
        public boolean needsQuestions() {
            return this == MT_BENCH || this == ARENA_HARD;
        }
    }

    private Judging() {
    }

    /**
     * Judges every task that {@code judgments} does not already hold, appending each record, and returns all the
     * records in task order. A torn last line (a crash while it was written) is dropped first.
     *
     * @throws JudgeEndpointException when the endpoint fails for good; the file then holds every judgment made
     * @throws IllegalArgumentException when an answer cannot be judged at all (the weighted AlpacaEval annotator
     *                                  without log-probabilities); the file holds every judgment made
     */
    public static List<JsonNode> run(List<JudgeTask> tasks, ChatClient client, Path judgments, Progress progress)
            throws InterruptedException {
        return run(tasks, client, judgments, progress, 1);
    }

    /**
     * As {@link #run(List, ChatClient, Path, Progress)} with up to {@code parallel} requests in flight at once (the
     * client's rate limit still spaces their starts). After the first failure no new request starts; the requests in
     * flight finish and are written, then the failure is thrown.
     */
    public static List<JsonNode> run(List<JudgeTask> tasks, ChatClient client, Path judgments, Progress progress,
                                     int parallel) throws InterruptedException {
        if (parallel < 1) {
            throw new IllegalArgumentException("parallel must be >= 1, got " + parallel);
        }
        Map<String, JsonNode> done = java.util.Collections.synchronizedMap(readExisting(judgments));
        Set<String> keys = new HashSet<>();
        for (JudgeTask t : tasks) {
            if (!keys.add(t.key())) {
                throw new IllegalStateException("two judge tasks with the key " + t.key());
            }
        }
        for (String k : done.keySet()) {
            if (!keys.contains(k)) {
                throw new IllegalStateException(judgments.getFileName() + " holds a judgment (" + k
                        + ") that is not among this job's tasks");
            }
        }
        int total = tasks.size();
        if (!done.isEmpty()) {
            progress.log("Resuming: " + done.size() + " of " + total + " judgments were made by an earlier attempt");
        }
        java.util.Iterator<JudgeTask> pending = tasks.stream().filter(t -> !done.containsKey(t.key())).toList().iterator();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        try (BufferedWriter out = Files.newBufferedWriter(judgments, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            Runnable worker = () -> {
                while (failure.get() == null) {
                    JudgeTask t;
                    synchronized (pending) {
                        if (!pending.hasNext()) {
                            return;
                        }
                        t = pending.next();
                    }
                    try {
                        progress.throwIfCancelled();
                        JsonNode record = t.record(client.complete(t.request()));
                        // one writer at a time: every line whole, flushed before the next request is counted
                        synchronized (out) {
                            out.write(JsonFiles.JSON.writeValueAsString(record));
                            out.write('\n');
                            out.flush();
                            done.put(t.key(), record);
                            progress.progress(done.size() / (double) total, "judged " + done.size() + " of " + total);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        return;
                    }
                }
            };
            if (parallel == 1) {
                worker.run();
            } else {
                List<Thread> threads = new ArrayList<>();
                for (int i = 0; i < parallel; i++) {
                    Thread th = new Thread(worker, "judge-" + i);
                    th.setDaemon(true);
                    threads.add(th);
                    th.start();
                }
                try {
                    for (Thread th : threads) {
                        th.join();
                    }
                } catch (InterruptedException e) {
                    threads.forEach(Thread::interrupt);
                    throw e;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + judgments.getFileName(), e);
        }
        Throwable f = failure.get();
        if (f instanceof RuntimeException r) {
            throw r;
        }
        if (f instanceof InterruptedException ie) {
            throw ie;
        }
        if (f instanceof IOException io) {
            throw new UncheckedIOException("cannot write " + judgments.getFileName(), io);
        }
        if (f instanceof Error err) {
            throw err;
        }
        if (f != null) {
            throw new IllegalStateException(f);
        }
        List<JsonNode> ordered = new ArrayList<>();
        tasks.forEach(t -> ordered.add(done.get(t.key())));
        return ordered;
    }

    /** The records already in the file, by key; a torn last line is cut off the file. */
    static Map<String, JsonNode> readExisting(Path file) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        if (!Files.exists(file)) {
            return out;
        }
        try {
            byte[] bytes = Files.readAllBytes(file);
            int lastNewline = -1;
            for (int i = bytes.length - 1; i >= 0; i--) {
                if (bytes[i] == '\n') {
                    lastNewline = i;
                    break;
                }
            }
            if (lastNewline + 1 < bytes.length) {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.truncate(lastNewline + 1);
                }
            }
            String text = new String(bytes, 0, lastNewline + 1, StandardCharsets.UTF_8);
            int lineNo = 0;
            for (String line : text.split("\n")) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonNode r = JsonFiles.JSON.readTree(line);
                    out.put(r.get("key").stringValue(), r);
                } catch (JacksonException | NullPointerException e) {
                    throw new IllegalStateException(file.getFileName() + " line " + lineNo + " is not a judgment record");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file.getFileName(), e);
        }
        return out;
    }

    /** The report of a benchmark's judgment records (all of them, or those kept from a failed run). */
    public record Report(MtBench.Report mtBench, AlpacaReport alpacaEval, ArenaReport arenaHard) {
    }

    /** AlpacaEval's numbers: the win rate and the length-controlled one (null when it could not be fitted). */
    public record AlpacaReport(String model, String baseline, WinRates.AlpacaWinRate winRate,
                               WinRates.LengthControlled lengthControlled, int annotations, int withoutPreference) {
    }

    /** Arena-Hard's score; {@code unparsed} counts the questions left out for a game without a known label. */
    public record ArenaReport(String model, String baseline, WinRates.ArenaScore score, int questions, int unparsed) {
    }

    /** Seed of the Arena-Hard bootstrap, so that a report is the same on every run. */
    public static final long BOOTSTRAP_SEED = 0;

    public static Report report(Benchmark benchmark, List<JsonNode> records) {
        return switch (benchmark) {
            case MT_BENCH -> new Report(MtBench.report(records), null, null);
            case ALPACA_EVAL, ALPACA_EVAL_WEIGHTED -> new Report(null, alpacaReport(records), null);
            case ARENA_HARD -> new Report(null, null, arenaReport(records));
        };
    }

    static AlpacaReport alpacaReport(List<JsonNode> records) {
        List<Double> prefs = new ArrayList<>();
        int[] len1 = new int[records.size()];
        int[] len2 = new int[records.size()];
        int without = 0;
        for (int i = 0; i < records.size(); i++) {
            JsonNode r = records.get(i);
            JsonNode p = r.get("preference");
            prefs.add(p == null || p.isNull() ? null : p.doubleValue());
            without += p == null || p.isNull() ? 1 : 0;
            len1[i] = r.get("len_1").intValue();
            len2[i] = r.get("len_2").intValue();
        }
        String model = records.isEmpty() ? null : records.get(0).get("generator_2").stringValue();
        String baseline = records.isEmpty() ? null : records.get(0).get("generator_1").stringValue();
        if (without == records.size()) {
            return new AlpacaReport(model, baseline, null, null, records.size(), without);
        }
        return new AlpacaReport(model, baseline, WinRates.alpacaWinRate(prefs), WinRates.lengthControlled(prefs, len1, len2),
                records.size(), without);
    }

    static ArenaReport arenaReport(List<JsonNode> records) {
        Map<String, String[]> labels = new LinkedHashMap<>();
        Map<String, Boolean> complete = new HashMap<>();
        for (JsonNode r : records) {
            String[] l = labels.computeIfAbsent(r.get("uid").stringValue(), k -> new String[2]);
            JsonNode s = r.get("score");
            l[r.get("game").intValue() - 1] = s == null || s.isNull() ? null : s.stringValue();
            complete.merge(r.get("uid").stringValue(), false, (a, b) -> true);
        }
        List<Double> scores = new ArrayList<>();
        int questions = 0;
        int unparsed = 0;
        for (Map.Entry<String, String[]> e : labels.entrySet()) {
            if (!complete.getOrDefault(e.getKey(), false)) {
                continue; // only one game judged (a run that failed between the two): not a battle yet
            }
            double[] b = WinRates.battleScores(e.getValue()[0], e.getValue()[1]);
            if (b == null) {
                unparsed++;
                continue;
            }
            questions++;
            for (double v : b) {
                scores.add(v);
            }
        }
        String model = records.isEmpty() ? null : records.get(0).get("model").stringValue();
        String baseline = records.isEmpty() ? null : records.get(0).get("baseline").stringValue();
        WinRates.ArenaScore score = scores.isEmpty() ? null
                : WinRates.arenaScore(scores.stream().mapToDouble(Double::doubleValue).toArray(), questions, BOOTSTRAP_SEED);
        return new ArenaReport(model, baseline, score, questions, unparsed);
    }
}
