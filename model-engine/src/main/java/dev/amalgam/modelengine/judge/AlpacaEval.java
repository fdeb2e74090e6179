package dev.amalgam.modelengine.judge;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * AlpacaEval 2 pairwise annotation with the prompt of its {@code weighted_alpaca_eval_gpt4_turbo} annotator
 * ({@code alpaca_eval_clf.txt}): the judge names the better of two outputs, {@code m} (the first shown) or
 * {@code M} (the second). {@code output_1} is the baseline's, {@code output_2} the model's; which is shown first is
 * switched per instruction, deterministically, and the preference switched back ({@code 3 - p}). The preference is
 * in [1, 2]: 1 the baseline is better, 2 the model, 1.5 a tie.
 * <ul>
 *   <li>{@link Mode#WEIGHTED}: as the weighted annotator, 1 token, temperature 1, the top 5 log-probabilities of the
 *       first token; preference (in shown order) = 2 - p(m) / (p(m) + p(M)), a token absent from the top 5 having
 *       probability 0; neither present: no preference.</li>
 *   <li>{@link Mode#TEXT}: for endpoints without log-probabilities, 1 token at temperature 0 and the answer's text:
 *       {@code m} gives 1, {@code M} 2 (in shown order), anything else no preference.</li>
 * </ul>
 * Files: JSON lists (or JSON Lines) of {@code {instruction, output, generator, dataset?}}; model and baseline are
 * paired by instruction.
 */
public final class AlpacaEval {

    /** How the judge's verdict is read. */
    public enum Mode { WEIGHTED, TEXT }

    public static final int TOP_LOGPROBS = 5;
    /** AlpacaEval's column name that seeds its output-order switch; part of our switch's hash input too. */
    static final String SWITCH_SEED = "is_switched_outputs";

    private static final String TEMPLATE = Prompts.resource("alpaca_eval_clf.txt");

    /** One output of a generator for an instruction. */
    public record Output(String instruction, String output, String generator, String dataset) {
    }

    private AlpacaEval() {
    }

    public static List<Output> readOutputs(Path file) {
        List<Output> out = new ArrayList<>();
        for (JsonFiles.Row row : JsonFiles.listOrJsonLines(file)) {
            JsonNode d = row.node().get("dataset");
            out.add(new Output(JsonFiles.string(row, "instruction"), JsonFiles.string(row, "output"),
                    JsonFiles.string(row, "generator"), d != null && d.isString() ? d.stringValue() : null));
        }
        return out;
    }

    /** The annotation tasks: each model output against the baseline's output for the same instruction. */
    public static List<JudgeTask> tasks(List<Output> model, List<Output> baseline, Mode mode) {
        Map<String, Output> base = new LinkedHashMap<>();
        for (Output b : baseline) {
            if (base.put(b.instruction(), b) != null) {
                throw new IllegalArgumentException("baseline: two outputs for the instruction '"
                        + JsonFiles.abbreviate(b.instruction()) + "'");
            }
        }
        List<JudgeTask> tasks = new ArrayList<>();
        Map<String, Boolean> seen = new LinkedHashMap<>();
        for (int i = 0; i < model.size(); i++) {
            Output m = model.get(i);
            if (seen.put(m.instruction(), true) != null) {
                throw new IllegalArgumentException("answers item " + i + ": a second output for the instruction '"
                        + JsonFiles.abbreviate(m.instruction()) + "'");
            }
            Output b = base.get(m.instruction());
            if (b == null) {
                throw new IllegalArgumentException("answers item " + i + ": the baseline has no output for the instruction '"
                        + JsonFiles.abbreviate(m.instruction()) + "'");
            }
            tasks.add(task(i, b, m, mode));
        }
        return tasks;
    }

    /** Whether the model's output is shown first: a SHA-256 of the instruction, so the same on every run. */
    static boolean switched(String instruction) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256")
                    .digest((SWITCH_SEED + instruction).getBytes(StandardCharsets.UTF_8));
            return (h[0] & 1) == 1;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The chat messages of the prompt: the template filled as AlpacaEval fills it, then split as its prompt_to_chatml. */
    static List<ChatClient.Message> messages(String instruction, String shownFirst, String shownSecond) {
        String prompt = Prompts.replaceFirstInOrder(TEMPLATE, List.of(Map.entry("instruction", instruction),
                Map.entry("output_1", shownFirst), Map.entry("output_2", shownSecond)));
        return chatml(prompt);
    }

    /** AlpacaEval's prompt_to_chatml: each {@code <|im_start|>role\n...<|im_end|>} a message, its content stripped. */
    static List<ChatClient.Message> chatml(String prompt) {
        String p = prompt.strip();
        if (!p.startsWith("<|im_start|>") || !p.endsWith("<|im_end|>")) {
            throw new IllegalStateException("not a ChatML prompt");
        }
        List<ChatClient.Message> out = new ArrayList<>();
        String[] parts = p.split("<\\|im_start\\|>", -1);
        for (int i = 1; i < parts.length; i++) {
            int nl = parts[i].indexOf('\n');
            String role = parts[i].substring(0, nl).strip();
            String rest = parts[i].substring(nl + 1);
            int end = rest.indexOf("<|im_end|>");
            out.add(new ChatClient.Message(role, (end < 0 ? rest : rest.substring(0, end)).strip()));
        }
        return out;
    }

    static JudgeTask task(int index, Output baseline, Output model, Mode mode) {
        boolean switched = switched(model.instruction());
        List<ChatClient.Message> messages = switched ? messages(model.instruction(), model.output(), baseline.output())
                : messages(model.instruction(), baseline.output(), model.output());
        ChatClient.Request request = mode == Mode.WEIGHTED
                ? new ChatClient.Request(messages, 1.0, 1, TOP_LOGPROBS)
                : new ChatClient.Request(messages, 0.0, 1, null);
        String key = "alpaca_eval/" + index;
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
                if (mode == Mode.WEIGHTED && response.firstTokenTopLogprobs().isEmpty()) {
                    // every preference would be missing: say so rather than report nothing
                    throw new IllegalArgumentException("the judge endpoint returned no top_logprobs for the first token;"
                            + " alpaca_eval_weighted needs them (alpaca_eval reads the judge's text instead)");
                }
                Double shown = mode == Mode.WEIGHTED ? weightedPreference(response.firstTokenTopLogprobs())
                        : textPreference(response.content());
                ObjectNode r = JsonFiles.JSON.createObjectNode();
                r.put("key", key);
                r.put("instruction", model.instruction());
                r.put("generator_1", baseline.generator());
                r.put("generator_2", model.generator());
                r.put("len_1", baseline.output().codePointCount(0, baseline.output().length()));
                r.put("len_2", model.output().codePointCount(0, model.output().length()));
                r.put(SWITCH_SEED, switched);
                r.put("raw_completion", response.content());
                if (mode == Mode.WEIGHTED) {
                    var top = r.putArray("top_logprobs");
                    response.firstTokenTopLogprobs().forEach(t -> top.addObject().put("token", t.token()).put("logprob", t.logprob()));
                }
                if (shown == null) {
                    r.putNull("preference");
                } else {
                    r.put("preference", switched ? 3 - shown : shown);
                }
                return r;
            }
        };
    }

    /** 2 - p(m) / (p(m) + p(M)) over the first token's top log-probabilities; null when neither token is there. */
    public static Double weightedPreference(List<ChatClient.TokenLogprob> top) {
        Double m = null;
        Double bigM = null;
        for (ChatClient.TokenLogprob t : top) {
            // a token listed twice: the last listing counts, as in AlpacaEval's dict of the list
            if (t.token().equals("m")) {
                m = t.logprob();
            } else if (t.token().equals("M")) {
                bigM = t.logprob();
            }
        }
        if (m == null && bigM == null) {
            return null;
        }
        if (m == null) {
            return 2.0;
        }
        if (bigM == null) {
            return 1.0;
        }
        // p(m) / (p(m) + p(M)) = 1 / (1 + exp(logp(M) - logp(m))), without overflow
        double pm = 1 / (1 + Math.exp(bigM - m));
        return 2 - pm;
    }

    /** The text annotator: exactly {@code m} is 1, exactly {@code M} is 2 (surrounding whitespace ignored), else null. */
    public static Double textPreference(String content) {
        String c = content.strip();
        return c.equals("m") ? Double.valueOf(1.0) : c.equals("M") ? Double.valueOf(2.0) : null;
    }
}
