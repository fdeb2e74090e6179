package dev.amalgam.modelengine.judge;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * MT-Bench single-answer grading as FastChat's llm_judge does it: each turn of each question graded 1..10 by the
 * judge with FastChat's published prompts ({@code single-v1}, {@code single-math-v1} for the categories that need a
 * reference answer, and their {@code -multi-turn} forms for the second turn), temperature 0, 2048 tokens; the rating
 * is the first {@code [[x]]} in the judgment, else the first {@code [x]}, else -1 (unparsed, left out of the means).
 * Files: {@code question.jsonl} (question_id, category, turns, reference?) and a {@code model_answer/<model>.jsonl}
 * (question_id, model_id, choices[0].turns).
 */
public final class MtBench {

    /** FastChat's categories graded against a reference answer. */
    public static final List<String> NEED_REF_CATS = List.of("math", "reasoning", "coding", "arena-hard-200");
    public static final int MAX_TOKENS = 2048;

    private static final Pattern ONE_SCORE = Pattern.compile("\\[\\[(\\d+\\.?\\d*)\\]\\]");
    private static final Pattern ONE_SCORE_BACKUP = Pattern.compile("\\[(\\d+\\.?\\d*)\\]");

    /** A question; {@code reference} is null when the file gives none. */
    public record Question(String id, String category, List<String> turns, List<String> reference) {
    }

    /** A model's answer: the turns of its first choice. */
    public record Answer(String questionId, String modelId, List<String> turns) {
    }

    /** One of FastChat's judge prompts. */
    public record JudgePrompt(String name, String systemPrompt, String promptTemplate) {
    }

    /** FastChat's four single-grading prompts, by name. */
    public static final Map<String, JudgePrompt> PROMPTS = loadPrompts();

    private MtBench() {
    }

    private static Map<String, JudgePrompt> loadPrompts() {
        Map<String, JudgePrompt> out = new LinkedHashMap<>();
        for (String line : Prompts.resource("mt_bench_judge_prompts.jsonl").split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode p = JsonFiles.JSON.readTree(line);
            out.put(p.get("name").stringValue(), new JudgePrompt(p.get("name").stringValue(),
                    p.get("system_prompt").stringValue(), p.get("prompt_template").stringValue()));
        }
        return Map.copyOf(out);
    }

    public static List<Question> readQuestions(Path file) {
        List<Question> out = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        for (JsonFiles.Row row : JsonFiles.jsonLines(file)) {
            String id = JsonFiles.id(row, "question_id");
            if (seen.put(id, row.where()) != null) {
                throw new IllegalArgumentException(row.where() + ": question_id " + id + " also on " + seen.get(id));
            }
            String category = JsonFiles.string(row, "category");
            List<String> turns = JsonFiles.strings(row, row.node().get("turns"), "turns");
            JsonNode ref = row.node().get("reference");
            List<String> reference = ref == null || ref.isNull() ? null : JsonFiles.strings(row, ref, "reference");
            out.add(new Question(id, category, turns, reference));
        }
        return out;
    }

    /** A model_answer file (FastChat's format), by question id; every line must name the same model_id. */
    public static Map<String, Answer> readAnswers(Path file) {
        Map<String, Answer> out = new LinkedHashMap<>();
        String model = null;
        for (JsonFiles.Row row : JsonFiles.jsonLines(file)) {
            String id = JsonFiles.id(row, "question_id");
            String modelId = JsonFiles.sameModel(row, "model_id", model);
            model = modelId;
            JsonNode choice = row.node().path("choices").path(0);
            if (!choice.isObject()) {
                throw new IllegalArgumentException(row.where() + ": choices must be a non-empty list of {index, turns}");
            }
            List<String> turns = JsonFiles.strings(row, choice.get("turns"), "choices[0].turns");
            if (out.put(id, new Answer(id, modelId, turns)) != null) {
                throw new IllegalArgumentException(row.where() + ": a second answer to question_id " + id);
            }
        }
        return out;
    }

    /**
     * The grading tasks: turn 1 of every question, and turn 2 of those with two or more turns (as FastChat grades
     * them). Every question needs an answer with as many turns; the reference-graded categories need a reference
     * answer, from {@code references} (a model_answer file, as FastChat's {@code reference_answer/gpt-4.jsonl}) or else
     * the question's own {@code reference}.
     *
     * @param references by question id, or an empty map
     */
    public static List<JudgeTask> tasks(List<Question> questions, Map<String, Answer> answers,
                                        Map<String, Answer> references) {
        List<JudgeTask> tasks = new ArrayList<>();
        for (Question q : questions) {
            Answer a = answers.get(q.id());
            if (a == null) {
                throw new IllegalArgumentException("answers: no answer to question_id " + q.id());
            }
            int turns = Math.min(q.turns().size(), 2);
            if (a.turns().size() < turns) {
                throw new IllegalArgumentException("answers: the answer to question_id " + q.id() + " has "
                        + a.turns().size() + " turns, the question " + q.turns().size());
            }
            List<String> ref = null;
            if (NEED_REF_CATS.contains(q.category())) {
                ref = references.containsKey(q.id()) ? references.get(q.id()).turns() : q.reference();
                if (ref == null || ref.size() < turns) {
                    throw new IllegalArgumentException("questions: question_id " + q.id() + " (category " + q.category()
                            + ") is graded against a reference answer of " + turns
                            + " turn(s): give it in the question's reference or in a references file");
                }
            }
            for (int turn = 1; turn <= turns; turn++) {
                tasks.add(task(q, a, ref, turn));
            }
        }
        return tasks;
    }

    /** The prompt FastChat uses for this question's turn (1 or 2). */
    static JudgePrompt promptFor(Question q, int turn) {
        boolean math = NEED_REF_CATS.contains(q.category());
        return PROMPTS.get((math ? "single-math-v1" : "single-v1") + (turn == 2 ? "-multi-turn" : ""));
    }

    static JudgeTask task(Question q, Answer a, List<String> ref, int turn) {
        JudgePrompt prompt = promptFor(q, turn);
        Map<String, String> values = new HashMap<>();
        if (turn == 1) {
            values.put("question", q.turns().get(0));
            values.put("answer", a.turns().get(0));
        } else {
            values.put("question_1", q.turns().get(0));
            values.put("question_2", q.turns().get(1));
            values.put("answer_1", a.turns().get(0));
            values.put("answer_2", a.turns().get(1));
        }
        if (ref != null) {
            values.put("ref_answer_1", ref.get(0));
            if (turn == 2) {
                values.put("ref_answer_2", ref.get(1));
            }
        }
        String user = Prompts.format(prompt.promptTemplate(), values);
        ChatClient.Request request = new ChatClient.Request(List.of(new ChatClient.Message("system", prompt.systemPrompt()),
                new ChatClient.Message("user", user)), 0.0, MAX_TOKENS, null);
        String key = "mt_bench/" + q.id() + "/turn" + turn;
        return new JudgeTask() {
            @Override
            public String key() {
                return key;
            }

            @Override
            public ChatClient.Request request() {
                return request;
            }

            @Override
            public ObjectNode record(ChatClient.Response response) {
                ObjectNode r = JsonFiles.JSON.createObjectNode();
                r.put("key", key);
                r.put("question_id", q.id());
                r.put("category", q.category());
                r.put("turn", turn);
                r.put("model", a.modelId());
                r.put("judge_prompt", prompt.name());
                r.put("user_prompt", user);
                r.put("judgment", response.content());
                r.put("score", rating(response.content()));
                return r;
            }
        };
    }

    /** FastChat's rating: the first [[x]], else the first [x], as a number; -1 when neither is found. */
    public static double rating(String judgment) {
        Matcher m = ONE_SCORE.matcher(judgment);
        if (!m.find()) {
            m = ONE_SCORE_BACKUP.matcher(judgment);
            if (!m.find()) {
                return -1;
            }
        }
        return Double.parseDouble(m.group(1));
    }

    /** A mean rating over some judgments. */
    public record Mean(double score, int count) {
    }

    /**
     * The report: the mean rating over all graded turns, per turn and per category, as FastChat's show_result
     * (judgments rated -1 left out).
     *
     * @param turn1 null when no first turn has a rating; the same for the others
     */
    public record Report(Mean overall, Mean turn1, Mean turn2, Map<String, Mean> categories, int judged, int unparsed) {
    }

    public static Report report(List<JsonNode> records) {
        double[] sum = new double[3];
        int[] n = new int[3];
        Map<String, double[]> cats = new TreeMap<>();
        int unparsed = 0;
        for (JsonNode r : records) {
            double score = r.get("score").doubleValue();
            if (score == -1) {
                unparsed++;
                continue;
            }
            int turn = r.get("turn").intValue();
            sum[0] += score;
            n[0]++;
            sum[turn] += score;
            n[turn]++;
            double[] c = cats.computeIfAbsent(r.get("category").stringValue(), k -> new double[2]);
            c[0] += score;
            c[1]++;
        }
        Map<String, Mean> categories = new LinkedHashMap<>();
        cats.forEach((k, v) -> categories.put(k, new Mean(v[0] / v[1], (int) v[1])));
        return new Report(mean(sum[0], n[0]), mean(sum[1], n[1]), mean(sum[2], n[2]), categories, records.size(), unparsed);
    }

    private static Mean mean(double sum, int n) {
        return n == 0 ? null : new Mean(sum / n, n);
    }
}
