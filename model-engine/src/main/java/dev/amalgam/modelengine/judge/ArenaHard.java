package dev.amalgam.modelengine.judge;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Arena-Hard-Auto (v0.1 judge settings) pairwise judging: for each question two games, the baseline as assistant A
 * and the model as B, then swapped; the system prompt and template of arena-hard-auto's {@code arena-hard-v0.1}
 * settings, temperature 0, 4096 tokens. The verdict label is read as its {@code get_score}: for each regex in turn,
 * every match in the upper-cased judgment; the last match of the first regex that matches.
 * Files: {@code question.jsonl} ({@code uid, category, prompt}) and model_answer JSON Lines
 * ({@code uid, model, messages}, the answer in the last message's {@code content.answer}).
 */
public final class ArenaHard {

    private static final JsonNode SETTINGS = JsonFiles.JSON.readTree(Prompts.resource("arena_hard_v0.1.json"));
    public static final String SYSTEM_PROMPT = SETTINGS.get("system_prompt").stringValue();
    public static final String PROMPT_TEMPLATE = SETTINGS.get("prompt_template").stringValue();
    public static final int MAX_TOKENS = SETTINGS.get("max_tokens").intValue();
    public static final double TEMPERATURE = SETTINGS.get("temperature").doubleValue();
    private static final List<Pattern> PATTERNS = patterns();

    /** A question. */
    public record Question(String uid, String category, String prompt) {
    }

    /** A model's answer. */
    public record Answer(String uid, String model, String answer) {
    }

    private ArenaHard() {
    }

    private static List<Pattern> patterns() {
        List<Pattern> out = new ArrayList<>();
        SETTINGS.get("regex_patterns").forEach(p -> out.add(Pattern.compile(p.stringValue())));
        return List.copyOf(out);
    }

    public static List<Question> readQuestions(Path file) {
        List<Question> out = new ArrayList<>();
        Map<String, Boolean> seen = new LinkedHashMap<>();
        for (JsonFiles.Row row : JsonFiles.jsonLines(file)) {
            String uid = JsonFiles.id(row, "uid");
            if (seen.put(uid, true) != null) {
                throw new IllegalArgumentException(row.where() + ": a second question with uid " + uid);
            }
            out.add(new Question(uid, JsonFiles.string(row, "category"), JsonFiles.string(row, "prompt")));
        }
        return out;
    }

    /** Answers by uid; every line must name the same model. */
    public static Map<String, Answer> readAnswers(Path file) {
        Map<String, Answer> out = new LinkedHashMap<>();
        String model = null;
        for (JsonFiles.Row row : JsonFiles.jsonLines(file)) {
            String uid = JsonFiles.id(row, "uid");
            String m = JsonFiles.sameModel(row, "model", model);
            model = m;
            JsonNode messages = row.node().get("messages");
            if (messages == null || !messages.isArray() || messages.isEmpty()) {
                throw new IllegalArgumentException(row.where() + ": messages must be a non-empty list");
            }
            JsonNode content = messages.get(messages.size() - 1).path("content");
            String answer;
            if (content.path("answer").isString()) {
                answer = content.get("answer").stringValue();
            } else {
                throw new IllegalArgumentException(row.where() + ": the last message's content.answer must be a string");
            }
            if (out.put(uid, new Answer(uid, m, answer)) != null) {
                throw new IllegalArgumentException(row.where() + ": a second answer for uid " + uid);
            }
        }
        return out;
    }

    /** Two games per question: game 1 with the baseline as A, game 2 with the model as A. */
    public static List<JudgeTask> tasks(List<Question> questions, Map<String, Answer> answers, Map<String, Answer> baseline) {
        List<JudgeTask> tasks = new ArrayList<>();
        for (Question q : questions) {
            Answer a = answers.get(q.uid());
            if (a == null) {
                throw new IllegalArgumentException("answers: no answer for uid " + q.uid());
            }
            Answer b = baseline.get(q.uid());
            if (b == null) {
                throw new IllegalArgumentException("baseline: no answer for uid " + q.uid());
            }
            tasks.add(game(q, a, b, 1));
            tasks.add(game(q, a, b, 2));
        }
        return tasks;
    }

    static JudgeTask game(Question q, Answer model, Answer baseline, int game) {
        Answer first = game == 1 ? baseline : model;
        Answer second = game == 1 ? model : baseline;
        String user = Prompts.format(PROMPT_TEMPLATE, Map.of("QUESTION", q.prompt(), "ANSWER_A", first.answer(),
                "ANSWER_B", second.answer()));
        ChatClient.Request request = new ChatClient.Request(List.of(new ChatClient.Message("system", SYSTEM_PROMPT),
                new ChatClient.Message("user", user)), TEMPERATURE, MAX_TOKENS, null);
        String key = "arena_hard/" + q.uid() + "/game" + game;
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
                r.put("uid", q.uid());
                r.put("category", q.category());
                r.put("game", game);
                r.put("model", model.model());
                r.put("baseline", baseline.model());
                r.put("user_prompt", user);
                r.put("judgment", response.content());
                String label = label(response.content());
                if (label == null) {
                    r.putNull("score");
                } else {
                    r.put("score", label);
                }
                return r;
            }
        };
    }

    /** arena-hard-auto's get_score: the last non-empty match of the first pattern with one, in the upper-cased text. */
    public static String label(String judgment) {
        String upper = judgment.toUpperCase(java.util.Locale.ROOT);
        for (Pattern p : PATTERNS) {
            Matcher m = p.matcher(upper);
            String last = null;
            while (m.find()) {
                if (!m.group(1).isEmpty()) {
                    last = m.group(1);
                }
            }
            if (last != null) {
                return last.replaceAll("^\\n+|\\n+$", "");
            }
        }
        return null;
    }

    /**
     * arena-hard-auto's scores of one label from assistant A's side, a strong verdict counted {@code weight} times:
     * A>B is [1], A>>B [1,1,1], A=B [0.5], and the mirrored spellings; null for a label outside its table.
     */
    public static double[] labelScores(String label, int weight) {
        double value;
        int times;
        switch (label) {
            case "A>B", "B<A" -> { value = 1; times = 1; }
            case "A>>B", "B<<A" -> { value = 1; times = weight; }
            case "A=B", "B=A" -> { value = 0.5; times = 1; }
            case "A<B", "B>A" -> { value = 0; times = 1; }
            case "A<<B", "B>>A" -> { value = 0; times = weight; }
            default -> { return null; }
        }
        double[] out = new double[times];
        java.util.Arrays.fill(out, value);
        return out;
    }
}
