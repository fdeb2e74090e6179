package dev.amalgam.modelengine.answers;

import dev.amalgam.modelengine.text.TextTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes answers in the file layout each benchmark's judging scripts read:
 *
 * <ul>
 *   <li>MT-Bench ({@code data/mt_bench/model_answer/<model>.jsonl}, FastChat {@code gen_model_answer.py}): one line
 *       per question, {@code {"question_id", "answer_id", "model_id", "choices": [{"index", "turns": [...]}],
 *       "tstamp", "generate_params"}}, sorted by {@code question_id} (its {@code reorg_answer_file}).
 *       {@code generate_params} records the decoding settings of that question.</li>
 *   <li>AlpacaEval ({@code model_outputs.json}): a JSON array in question order, {@code {"instruction", "output",
 *       "generator", "dataset"}} ({@code dataset} only where the question had one).</li>
 *   <li>Arena-Hard ({@code data/<bench>/model_answer/<model>.jsonl}, arena-hard-auto {@code gen_answer.py}): one
 *       line per question, {@code {"uid", "ans_id", "model", "messages": [..., {"role": "user", "content": prompt},
 *       {"role": "assistant", "content": {"answer": text}}], "tstamp", "metadata"}}, sorted by {@code uid};
 *       {@code metadata} holds {@code token_len} and the markdown counts of {@code add_markdown_info.py}
 *       (headers h1..h6, ordered and unordered list items, bold {@code **} and {@code __}, code blocks removed
 *       first) that its style control reads.</li>
 * </ul>
 * {@code answer_id}/{@code ans_id} are random 22-character ids in shortuuid's alphabet; {@code tstamp} is the time of
 * writing in seconds since the epoch, as Python's {@code time.time()}.
 */
public final class AnswerFiles {

    /** shortuuid's alphabet (digits and letters without 0, 1, I, O, l). */
    static final String SHORTUUID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    private static final Pattern CODE_BLOCK = Pattern.compile("```([^`]*)```");
    // Python's re: ^ only after \n (UNIX_LINES), \s and \d over Unicode (UNICODE_CHARACTER_CLASS)
    private static final int LINES = Pattern.MULTILINE | Pattern.UNIX_LINES | Pattern.UNICODE_CHARACTER_CLASS;
    private static final Pattern[] HEADERS = new Pattern[6];
    private static final Pattern ORDERED = Pattern.compile("^\\s*\\d+\\.\\s", LINES);
    private static final Pattern UNORDERED = Pattern.compile("^\\s*[-*+]\\s", LINES);
    private static final Pattern BOLD_STARS = Pattern.compile("\\*\\*[^*\\n]+\\*\\*");
    private static final Pattern BOLD_UNDERSCORES = Pattern.compile("__[^_\\n]+__");

    static {
        for (int h = 1; h <= 6; h++) {
            HEADERS[h - 1] = Pattern.compile("^#{" + h + "}\\s", LINES);
        }
    }

    private final JsonMapper mapper = JsonMapper.builder().build();
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public AnswerFiles(Clock clock) {
        this.clock = clock;
    }

    /**
     * Writes {@code answers} to {@code file} in the format's layout.
     *
     * @param modelId the model's name in the file ({@code model_id}, {@code generator}, {@code model})
     * @param tokenizer counts {@code token_len} for Arena-Hard (the model's tokenizer, not tiktoken's)
     */
    public void write(BenchmarkFormat format, String modelId, List<BenchmarkAnswer> answers, AnswerSettings settings,
            TextTokenizer tokenizer, Path file) {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            switch (format) {
                case MT_BENCH -> {
                    for (BenchmarkAnswer a : sorted(answers)) {
                        w.write(mapper.writeValueAsString(mtBench(modelId, a, settings)));
                        w.write('\n');
                    }
                }
                case ARENA_HARD -> {
                    for (BenchmarkAnswer a : sorted(answers)) {
                        w.write(mapper.writeValueAsString(arenaHard(modelId, a, settings, tokenizer)));
                        w.write('\n');
                    }
                }
                case ALPACA_EVAL -> {
                    ArrayNode all = mapper.createArrayNode();
                    answers.forEach(a -> all.add(alpacaEval(modelId, a)));
                    w.write(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(all));
                    w.write('\n');
                }
                default -> throw new IllegalStateException(format.id());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    ObjectNode mtBench(String modelId, BenchmarkAnswer a, AnswerSettings settings) {
        ObjectNode o = mapper.createObjectNode();
        o.set("question_id", a.question().id());
        o.put("answer_id", shortUuid());
        o.put("model_id", modelId);
        ArrayNode choices = o.putArray("choices");
        for (int c = 0; c < a.choices().size(); c++) {
            ObjectNode choice = choices.addObject();
            choice.put("index", c);
            ArrayNode turns = choice.putArray("turns");
            a.choices().get(c).forEach(t -> turns.add(t.text()));
        }
        o.put("tstamp", now());
        ObjectNode params = o.putObject("generate_params");
        params.put("do_sample", a.temperature() >= BenchmarkAnswers.GREEDY_BELOW);
        params.put("max_new_token", settings.maxNewTokens());
        params.put("temperature", a.temperature());
        params.put("top_p", settings.topP());
        params.put("top_k", settings.topK());
        params.put("seed", settings.seed());
        if (settings.systemPrompt() != null) {
            params.put("system_prompt", settings.systemPrompt());
        }
        return o;
    }

    ObjectNode alpacaEval(String modelId, BenchmarkAnswer a) {
        ObjectNode o = mapper.createObjectNode();
        o.put("instruction", a.question().turns().get(0));
        o.put("output", a.choices().get(0).get(0).text());
        o.put("generator", modelId);
        JsonNode dataset = a.question().record().get("dataset");
        if (dataset != null && dataset.isString()) {
            o.put("dataset", dataset.asString());
        }
        return o;
    }

    ObjectNode arenaHard(String modelId, BenchmarkAnswer a, AnswerSettings settings, TextTokenizer tokenizer) {
        String answer = a.choices().get(0).get(0).text();
        ObjectNode o = mapper.createObjectNode();
        o.set("uid", a.question().id());
        o.put("ans_id", shortUuid());
        o.put("model", modelId);
        ArrayNode messages = o.putArray("messages");
        if (settings.systemPrompt() != null) {
            messages.addObject().put("role", "system").put("content", settings.systemPrompt());
        }
        messages.addObject().put("role", "user").put("content", a.question().turns().get(0));
        ObjectNode assistant = messages.addObject().put("role", "assistant");
        assistant.putObject("content").put("answer", answer);
        o.put("tstamp", now());
        ObjectNode metadata = o.putObject("metadata");
        metadata.put("token_len", tokenizer.encode(answer, false).length);
        metadata.setAll(markdownCounts(answer));
        return o;
    }

    /** arena-hard-auto's {@code count_markdown_elements(remove_pattern(answer, "```([^`]*)```"), suffix="")}. */
    ObjectNode markdownCounts(String answer) {
        String text = removeCodeBlocks(answer);
        ObjectNode o = mapper.createObjectNode();
        ObjectNode headers = o.putObject("header_count");
        for (int h = 1; h <= 6; h++) {
            headers.put("h" + h, count(HEADERS[h - 1], text));
        }
        o.putObject("list_count").put("ordered", count(ORDERED, text)).put("unordered", count(UNORDERED, text));
        o.putObject("bold_count").put("**", count(BOLD_STARS, text)).put("__", count(BOLD_UNDERSCORES, text));
        return o;
    }

    /** {@code remove_pattern}: every captured block content is removed wherever it occurs (the fences stay). */
    static String removeCodeBlocks(String answer) {
        List<String> blocks = new ArrayList<>();
        Matcher m = CODE_BLOCK.matcher(answer);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        for (String block : blocks) {
            answer = answer.replace(block, "");
        }
        return answer;
    }

    private static int count(Pattern p, String text) {
        Matcher m = p.matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** Sorted by id: integers by value (FastChat's int ids), strings in code-point order (Python's sort). */
    private static List<BenchmarkAnswer> sorted(List<BenchmarkAnswer> answers) {
        List<BenchmarkAnswer> s = new ArrayList<>(answers);
        boolean numeric = s.stream().allMatch(a -> a.question().id().isIntegralNumber());
        s.sort(numeric ? Comparator.comparing((BenchmarkAnswer a) -> a.question().id().bigIntegerValue())
                : Comparator.comparing((BenchmarkAnswer a) -> a.question().id().asString(), AnswerFiles::byCodePoints));
        return s;
    }

    private static int byCodePoints(String a, String b) {
        return java.util.Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray());
    }

    private double now() {
        return clock.millis() / 1000.0;
    }

    /** A random id like shortuuid's {@code uuid()}: 128 random bits as 22 digits of its 57-letter alphabet. */
    String shortUuid() {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        BigInteger n = new BigInteger(1, bytes);
        BigInteger base = BigInteger.valueOf(SHORTUUID_ALPHABET.length());
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 22; i++) {
            BigInteger[] qr = n.divideAndRemainder(base);
            sb.append(SHORTUUID_ALPHABET.charAt(qr[1].intValue()));
            n = qr[0];
        }
        return sb.toString();
    }
}
