package dev.amalgam.pruningservice;

import dev.amalgam.modelengine.judge.Judging;
import dev.amalgam.modelio.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * A judge job's judgments DATASET ({@code judgments.jsonl}) read back: every record checked against the layout the
 * judge library writes for its benchmark, so that the report computed from them cannot fail halfway, and the
 * benchmark told from the records themselves (the file names none).
 *
 * <p>The layouts: MT-Bench records carry {@code turn} and {@code judge_prompt}; AlpacaEval records
 * {@code generator_1}/{@code generator_2}, and {@code top_logprobs} when the weighted annotator judged them; Arena-Hard
 * records {@code game}.
 */
final class JudgmentRecords {

    private JudgmentRecords() {
    }

    /** The records of a judgments file and the benchmark they were judged for. */
    record Read(Judging.Benchmark benchmark, List<JsonNode> records) {
        Read {
            records = List.copyOf(records);
        }
    }

    /**
     * Reads and checks every record.
     *
     * @throws IllegalArgumentException naming the line and the field when a record is not a judgment, or when the
     *                                  file holds no judgment or judgments of two benchmarks
     */
    static Read read(Path file) {
        List<JsonNode> records = new ArrayList<>();
        Judging.Benchmark benchmark = null;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode r;
                try {
                    r = Json.MAPPER.readTree(line);
                } catch (JacksonException e) {
                    throw new IllegalArgumentException("line " + lineNo + " is not JSON");
                }
                Judging.Benchmark kind;
                try {
                    kind = kind(r);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("line " + lineNo + ": " + e.getMessage());
                }
                if (benchmark != null && kind != benchmark) {
                    throw new IllegalArgumentException("line " + lineNo + " is a " + kind.id() + " judgment, the lines before "
                            + benchmark.id() + " ones");
                }
                benchmark = kind;
                records.add(r);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file.getFileName(), e);
        }
        if (benchmark == null) {
            throw new IllegalArgumentException("holds no judgment");
        }
        return new Read(benchmark, records);
    }

    /** The benchmark a record was judged for, after checking every field its report reads. */
    static Judging.Benchmark kind(JsonNode r) {
        if (!r.isObject()) {
            throw new IllegalArgumentException("not a judgment record (not a JSON object)");
        }
        if (r.has("turn") && r.has("judge_prompt")) {
            string(r, "key");
            string(r, "category");
            int turn = integer(r, "turn");
            if (turn != 1 && turn != 2) {
                throw new IllegalArgumentException("turn: must be 1 or 2, got " + turn);
            }
            if (!r.path("score").isNumber()) {
                throw new IllegalArgumentException("score: must be a number (the rating, -1 when unread)");
            }
            return Judging.Benchmark.MT_BENCH;
        }
        if (r.has("generator_1") && r.has("generator_2")) {
            string(r, "key");
            string(r, "generator_1");
            string(r, "generator_2");
            if (integer(r, "len_1") < 0 || integer(r, "len_2") < 0) {
                throw new IllegalArgumentException("len_1, len_2: must not be negative");
            }
            JsonNode p = r.get("preference");
            if (p != null && !p.isNull() && !p.isNumber()) {
                throw new IllegalArgumentException("preference: must be a number or null");
            }
            return r.has("top_logprobs") ? Judging.Benchmark.ALPACA_EVAL_WEIGHTED : Judging.Benchmark.ALPACA_EVAL;
        }
        if (r.has("game")) {
            string(r, "key");
            string(r, "uid");
            string(r, "model");
            string(r, "baseline");
            int game = integer(r, "game");
            if (game != 1 && game != 2) {
                throw new IllegalArgumentException("game: must be 1 or 2, got " + game);
            }
            JsonNode s = r.get("score");
            if (s != null && !s.isNull() && !s.isString()) {
                throw new IllegalArgumentException("score: must be a verdict label or null");
            }
            return Judging.Benchmark.ARENA_HARD;
        }
        throw new IllegalArgumentException("not a judgment record (none of MT-Bench's turn and judge_prompt, "
                + "AlpacaEval's generator_1 and generator_2, Arena-Hard's game)");
    }

    private static void string(JsonNode r, String field) {
        if (!r.path(field).isString()) {
            throw new IllegalArgumentException(field + ": must be a string");
        }
    }

    private static int integer(JsonNode r, String field) {
        JsonNode v = r.path(field);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException(field + ": must be an integer");
        }
        return v.intValue();
    }
}
