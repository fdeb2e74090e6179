package dev.amalgam.modelengine.eval;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The record layouts a multiple-choice task's JSONL file may have, and how each becomes a {@link MultipleChoiceDoc}
 * with the prompts of lm-eval 0.4's task YAMLs (zero-shot, {@code target_delimiter} " "):
 *
 * <ul>
 *   <li>{@code generic}: {@code {"context": "...", "choices": ["...", ...], "gold": 0}}; each choice is scored as
 *       {@code " " + choice} after the context; acc and acc_norm.</li>
 *   <li>{@code piqa}: {@code goal, sol1, sol2, label}; context {@code "Question: {goal}\nAnswer:"}; acc, acc_norm.</li>
 *   <li>{@code winogrande}: {@code sentence, option1, option2, answer ("1"/"2")}; partial evaluation: context
 *       {@code sentence[:i] + option} where {@code i} is the index of {@code "_"}, continuation
 *       {@code " " + sentence[i+1:].strip()}; acc only.</li>
 *   <li>{@code hellaswag}: {@code activity_label, ctx_a, ctx_b, endings, label}; context
 *       {@code preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize())}, choices
 *       {@code preprocess(ending)}; acc, acc_norm.</li>
 *   <li>{@code arc_easy}, {@code arc_challenge}: {@code question, choices {text, label}, answerKey}; context
 *       {@code "Question: {question}\nAnswer:"}, gold {@code choices.label.index(answerKey)}; acc, acc_norm.</li>
 * </ul>
 */
public enum TaskFormat {
    GENERIC("generic", true),
    PIQA("piqa", true),
    WINOGRANDE("winogrande", false),
    HELLASWAG("hellaswag", true),
    ARC_EASY("arc_easy", true),
    ARC_CHALLENGE("arc_challenge", true);

    /** lm-eval's default {@code target_delimiter}, between the context and each scored continuation. */
    public static final String TARGET_DELIMITER = " ";

    private static final Pattern BRACKETS = Pattern.compile("\\[.*?\\]");

    private final String id;
    private final boolean hasAccNorm;

    TaskFormat(String id, boolean hasAccNorm) {
        this.id = id;
        this.hasAccNorm = hasAccNorm;
    }

    /** The format's name in specs and on the command line. */
    public String id() {
        return id;
    }

    /** Whether the task reports acc_norm (its lm-eval YAML lists it); winogrande reports acc only. */
    public boolean hasAccNorm() {
        return hasAccNorm;
    }

    /** Every format name, in declaration order. */
    public static List<String> ids() {
        return dev.amalgam.modelengine.NamedValues.ids(values(), TaskFormat::id);
    }

    /** The format named {@code id}. */
    public static TaskFormat of(String id) {
        return dev.amalgam.modelengine.NamedValues.find(values(), TaskFormat::id, id).orElseThrow(() ->
                new IllegalArgumentException("unknown task format '" + id + "' (known: " + String.join(", ", ids()) + ")"));
    }

    /**
     * Reads up to {@code limit} documents (all when {@code limit} is null) of a JSONL file in this format, in file
     * order (lm-eval's {@code --limit} takes the first N too). Blank lines are skipped.
     *
     * @throws IllegalArgumentException naming the file, line and field of the first bad record
     */
    public List<MultipleChoiceDoc> load(Path jsonl, Integer limit) {
        JsonMapper mapper = JsonMapper.builder().build();
        List<MultipleChoiceDoc> docs = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(jsonl)) {
            String line;
            int lineNo = 0;
            while ((limit == null || docs.size() < limit) && (line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode row;
                try {
                    row = mapper.readTree(line);
                } catch (JacksonException e) {
                    throw new IllegalArgumentException(jsonl.getFileName() + " line " + lineNo + ": not JSON: "
                            + e.getOriginalMessage());
                }
                try {
                    docs.add(doc(row));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(jsonl.getFileName() + " line " + lineNo + " (" + id + "): "
                            + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jsonl, e);
        }
        if (docs.isEmpty()) {
            throw new IllegalArgumentException(jsonl.getFileName() + " has no records");
        }
        return docs;
    }

    /** One record in this format as lm-eval builds its requests. */
    public MultipleChoiceDoc doc(JsonNode row) {
        if (!row.isObject()) {
            throw new IllegalArgumentException("a record must be a JSON object");
        }
        return switch (this) {
            case GENERIC -> {
                List<String> choices = strings(row, "choices");
                yield MultipleChoiceDoc.sharedContext(string(row, "context"), choices, index(row, "gold", choices.size()),
                        TARGET_DELIMITER);
            }
            case PIQA -> {
                String context = "Question: " + string(row, "goal") + "\nAnswer:";
                List<String> choices = List.of(string(row, "sol1"), string(row, "sol2"));
                yield MultipleChoiceDoc.sharedContext(context, choices, index(row, "label", 2), TARGET_DELIMITER);
            }
            case WINOGRANDE -> winogrande(row);
            case HELLASWAG -> {
                String ctx = string(row, "ctx_a") + " " + PythonStrings.capitalize(string(row, "ctx_b"));
                List<String> choices = strings(row, "endings").stream().map(TaskFormat::hellaswagPreprocess).toList();
                yield MultipleChoiceDoc.sharedContext(hellaswagPreprocess(string(row, "activity_label") + ": " + ctx),
                        choices, index(row, "label", choices.size()), TARGET_DELIMITER);
            }
            case ARC_EASY, ARC_CHALLENGE -> {
                JsonNode c = row.get("choices");
                if (c == null || !c.isObject()) {
                    throw new IllegalArgumentException("choices: must be an object with \"text\" and \"label\" lists");
                }
                List<String> text = strings(c, "text");
                List<String> labels = strings(c, "label");
                if (labels.size() != text.size()) {
                    throw new IllegalArgumentException("choices: " + text.size() + " texts but " + labels.size() + " labels");
                }
                String key = string(row, "answerKey");
                int gold = labels.indexOf(key);
                if (gold < 0) {
                    throw new IllegalArgumentException("answerKey: '" + key + "' is not one of the labels " + labels);
                }
                yield MultipleChoiceDoc.sharedContext("Question: " + string(row, "question") + "\nAnswer:", text, gold,
                        TARGET_DELIMITER);
            }
        };
    }

    /** lm-eval's winogrande: the option fills the blank in the context; the rest of the sentence is scored. */
    private static MultipleChoiceDoc winogrande(JsonNode row) {
        String sentence = string(row, "sentence");
        int blank = sentence.indexOf('_');
        if (blank < 0) {
            throw new IllegalArgumentException("sentence: has no '_' blank");
        }
        String answer = string(row, "answer");
        int gold = switch (answer) {
            case "1" -> 0;
            case "2" -> 1;
            default -> throw new IllegalArgumentException("answer: must be \"1\" or \"2\", got '" + answer + "'");
        };
        String target = TARGET_DELIMITER + PythonStrings.strip(sentence.substring(blank + 1));
        List<String> contexts = List.of(sentence.substring(0, blank) + string(row, "option1"),
                sentence.substring(0, blank) + string(row, "option2"));
        return new MultipleChoiceDoc(contexts.stream().map(c -> new MultipleChoiceDoc.Request(c, target)).toList(),
                contexts, gold);
    }

    /** lm-eval's hellaswag {@code preprocess}: strip, " [title]" to ". ", drop [bracketed] artifacts, "  " to " ". */
    static String hellaswagPreprocess(String text) {
        text = PythonStrings.strip(text);
        text = text.replace(" [title]", ". ");
        text = BRACKETS.matcher(text).replaceAll("");
        return text.replace("  ", " ");
    }

    private static String string(JsonNode row, String field) {
        JsonNode n = row.get(field);
        if (n == null || !n.isString()) {
            throw new IllegalArgumentException(field + ": must be a string" + (n == null ? " (missing)" : ", got " + n));
        }
        return n.stringValue();
    }

    private static List<String> strings(JsonNode row, String field) {
        JsonNode n = row.get(field);
        if (n == null || !n.isArray() || n.isEmpty()) {
            throw new IllegalArgumentException(field + ": must be a non-empty list of strings"
                    + (n == null ? " (missing)" : ", got " + n));
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            if (!n.get(i).isString()) {
                throw new IllegalArgumentException(field + "[" + i + "]: must be a string, got " + n.get(i));
            }
            out.add(n.get(i).stringValue());
        }
        return out;
    }

    /** An index field given as an integer or as a string of digits (Hugging Face's hellaswag labels are strings). */
    private static int index(JsonNode row, String field, int choices) {
        JsonNode n = row.get(field);
        int value;
        if (n != null && n.isIntegralNumber() && n.canConvertToInt()) {
            value = n.intValue();
        } else if (n != null && n.isString() && n.stringValue().matches("[0-9]{1,9}")) {
            value = Integer.parseInt(n.stringValue());
        } else {
            throw new IllegalArgumentException(field + ": must be a choice index, got " + (n == null ? "nothing" : n));
        }
        if (value >= choices) {
            throw new IllegalArgumentException(field + ": " + value + " is not a choice index in [0, " + choices + ")");
        }
        return value;
    }
}
