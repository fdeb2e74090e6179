package dev.amalgam.modelengine.answers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The benchmarks whose answer files the generate job writes, with the layout of their question files (the input) and
 * the decoding defaults their own generation scripts use:
 *
 * <ul>
 *   <li>{@code mt_bench} (FastChat {@code llm_judge}): {@code question.jsonl}, one
 *       {@code {"question_id", "category", "turns": [...]}} per line; two user turns, the second asked after the
 *       model's first answer. Temperature by category ({@link #MT_BENCH_TEMPERATURES}, 0.7 for other categories),
 *       1024 new tokens, top-k 50 (transformers' {@code generate} default, which FastChat does not override).</li>
 *   <li>{@code alpaca_eval}: the eval set as a JSON array (or JSONL) of {@code {"instruction", "dataset", ...}};
 *       AlpacaEval's {@code huggingface_local_completions} settings: temperature 0.7, top-p 1.0, 2048 new tokens,
 *       top-k 50 (transformers' default).</li>
 *   <li>{@code arena_hard} (arena-hard-auto, v0.1 and v2.0 question files): {@code question.jsonl}, one
 *       {@code {"uid", "category", "prompt"}} per line; temperature 0 and 4096 new tokens (its endpoint
 *       configuration examples), no top-k (vLLM and SGLang have none by default).</li>
 * </ul>
 * The answer files themselves are written by {@link AnswerFiles}.
 */
public enum BenchmarkFormat {
    MT_BENCH("mt_bench", 1024, 50),
    ALPACA_EVAL("alpaca_eval", 2048, 50),
    ARENA_HARD("arena_hard", 4096, 0);

    /** FastChat's {@code temperature_config} (llm_judge/common.py): the sampling temperature of each category. */
    public static final Map<String, Double> MT_BENCH_TEMPERATURES = Map.of(
            "writing", 0.7, "roleplay", 0.7, "extraction", 0.0, "math", 0.0, "coding", 0.0, "reasoning", 0.0,
            "stem", 0.1, "humanities", 0.1);

    /** FastChat's temperature for a category not in {@link #MT_BENCH_TEMPERATURES}. */
    public static final double MT_BENCH_OTHER_TEMPERATURE = 0.7;

    /** AlpacaEval's {@code huggingface_local_completions} temperature. */
    public static final double ALPACA_EVAL_TEMPERATURE = 0.7;

    private final String id;
    private final int defaultMaxNewTokens;
    private final int defaultTopK;

    BenchmarkFormat(String id, int defaultMaxNewTokens, int defaultTopK) {
        this.id = id;
        this.defaultMaxNewTokens = defaultMaxNewTokens;
        this.defaultTopK = defaultTopK;
    }

    /** The format's name in specs and on the command line. */
    public String id() {
        return id;
    }

    public int defaultMaxNewTokens() {
        return defaultMaxNewTokens;
    }

    public int defaultTopK() {
        return defaultTopK;
    }

    /** Whether the benchmark's answer file can hold more than one answer per question. */
    public boolean allowsSeveralChoices() {
        return this == MT_BENCH;
    }

    /** The temperature the benchmark's own script would use for a question (0 means greedy). */
    public double defaultTemperature(BenchmarkQuestion q) {
        return switch (this) {
            case MT_BENCH -> q.category() != null && MT_BENCH_TEMPERATURES.containsKey(q.category())
                    ? MT_BENCH_TEMPERATURES.get(q.category()) : MT_BENCH_OTHER_TEMPERATURE;
            case ALPACA_EVAL -> ALPACA_EVAL_TEMPERATURE;
            case ARENA_HARD -> 0.0;
        };
    }

    /** The answer file's name, as the benchmark's scripts look for it ({@code model_answer/<model>.jsonl} ...). */
    public String answerFileName(String modelId) {
        return this == ALPACA_EVAL ? "model_outputs.json" : modelId + ".jsonl";
    }

    /** Every format name, in declaration order. */
    public static List<String> ids() {
        return dev.amalgam.modelengine.NamedValues.ids(values(), BenchmarkFormat::id);
    }

    /** The format named {@code id}. */
    public static BenchmarkFormat of(String id) {
        return dev.amalgam.modelengine.NamedValues.find(values(), BenchmarkFormat::id, id).orElseThrow(() ->
                new IllegalArgumentException("unknown benchmark format '" + id + "' (one of " + String.join(", ", ids()) + ")"));
    }

    /**
     * Reads a question file (the first {@code limit} questions, or all when null). Every bad record is an error that
     * names the file, the line (JSONL) or index (JSON array) and the field.
     */
    public List<BenchmarkQuestion> load(Path file, Integer limit) {
        JsonMapper mapper = JsonMapper.builder().build();
        List<BenchmarkQuestion> out = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        String name = file.getFileName().toString();
        try {
            if (this == ALPACA_EVAL && startsWithArray(file)) {
                JsonNode all;
                try {
                    all = mapper.readTree(file.toFile());
                } catch (JacksonException e) {
                    throw new IllegalArgumentException(name + ": not JSON: " + e.getOriginalMessage());
                }
                for (int i = 0; i < all.size() && (limit == null || out.size() < limit); i++) {
                    out.add(question(all.get(i), name + " [" + i + "]", ids));
                }
            } else {
                try (BufferedReader reader = Files.newBufferedReader(file)) {
                    String line;
                    int lineNo = 0;
                    while ((limit == null || out.size() < limit) && (line = reader.readLine()) != null) {
                        lineNo++;
                        if (line.isBlank()) {
                            continue;
                        }
                        JsonNode row;
                        try {
                            row = mapper.readTree(line);
                        } catch (JacksonException e) {
                            throw new IllegalArgumentException(name + " line " + lineNo + ": not JSON: "
                                    + e.getOriginalMessage());
                        }
                        out.add(question(row, name + " line " + lineNo, ids));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(name + " has no questions");
        }
        return out;
    }

    private static boolean startsWithArray(Path file) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file)) {
            int c;
            while ((c = r.read()) != -1) {
                if (!Character.isWhitespace(c) && c != 0xFEFF) {
                    return c == '[';
                }
            }
        }
        return false;
    }

    private BenchmarkQuestion question(JsonNode row, String where, Set<String> ids) {
        String prefix = where + " (" + id + "): ";
        if (!row.isObject()) {
            throw new IllegalArgumentException(prefix + "a question must be a JSON object");
        }
        switch (this) {
            case MT_BENCH -> {
                JsonNode qid = row.get("question_id");
                if (qid == null || !(qid.isIntegralNumber() || qid.isString())) {
                    throw new IllegalArgumentException(prefix + "question_id: must be an integer or a string"
                            + (qid == null ? " (missing)" : ""));
                }
                unique(qid, ids, prefix + "question_id: ");
                String category = string(row, "category", prefix);
                JsonNode turns = row.get("turns");
                if (turns == null || !turns.isArray() || turns.isEmpty()) {
                    throw new IllegalArgumentException(prefix + "turns: must be a non-empty list of strings"
                            + (turns == null ? " (missing)" : ""));
                }
                List<String> list = new ArrayList<>();
                for (int i = 0; i < turns.size(); i++) {
                    if (!turns.get(i).isString()) {
                        throw new IllegalArgumentException(prefix + "turns[" + i + "]: must be a string");
                    }
                    list.add(turns.get(i).asString());
                }
                return new BenchmarkQuestion(qid, category, list, row);
            }
            case ARENA_HARD -> {
                JsonNode uid = row.get("uid");
                if (uid == null || !uid.isString()) {
                    throw new IllegalArgumentException(prefix + "uid: must be a string" + (uid == null ? " (missing)" : ""));
                }
                unique(uid, ids, prefix + "uid: ");
                JsonNode category = row.get("category");
                if (category != null && !category.isString() && !category.isNull()) {
                    throw new IllegalArgumentException(prefix + "category: must be a string");
                }
                return new BenchmarkQuestion(uid, category == null || category.isNull() ? null : category.asString(),
                        List.of(string(row, "prompt", prefix)), row);
            }
            case ALPACA_EVAL -> {
                String instruction = string(row, "instruction", prefix);
                JsonNode input = row.get("input");
                if (input != null && !(input.isNull() || input.isString() && input.asString().isEmpty())) {
                    throw new IllegalArgumentException(prefix + "input: a non-empty 'input' is not supported (the "
                            + "AlpacaEval set has none; put it into the instruction)");
                }
                JsonNode dataset = row.get("dataset");
                if (dataset != null && !dataset.isString() && !dataset.isNull()) {
                    throw new IllegalArgumentException(prefix + "dataset: must be a string");
                }
                return new BenchmarkQuestion(null, null, List.of(instruction), row);
            }
            default -> throw new IllegalStateException(id);
        }
    }

    private static String string(JsonNode row, String field, String prefix) {
        JsonNode v = row.get(field);
        if (v == null || !v.isString()) {
            throw new IllegalArgumentException(prefix + field + ": must be a string" + (v == null ? " (missing)" : ""));
        }
        return v.asString();
    }

    private static void unique(JsonNode id, Set<String> ids, String prefix) {
        if (!ids.add(id.toString())) {
            throw new IllegalArgumentException(prefix + id + " is used by an earlier question");
        }
    }
}
