package dev.amalgam.modelengine.answers;

import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.eval.PythonStrings;
import dev.amalgam.modelengine.generate.GeneratedSequence;
import dev.amalgam.modelengine.generate.GenerationConfig;
import dev.amalgam.modelengine.generate.Generator;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Answers a benchmark's questions with a model, as the benchmarks' own generation scripts do (FastChat's
 * {@code gen_model_answer.py}, AlpacaEval's local completions, arena-hard-auto's {@code gen_answer.py}), but batched:
 *
 * <ol>
 *   <li>Every (question, choice) pair is a conversation: the optional system prompt, then the question's user turns
 *       one at a time, each followed by the model's answer to it (so MT-Bench's second turn sees the first answer).</li>
 *   <li>Turn by turn, the conversations that have that turn are rendered with the model's chat template (generation
 *       prompt added) and tokenised; conversations with the same temperature are decoded together with the
 *       KV-cached {@link Generator}, {@code batchSize} at a time (longest prompts first, so a batch pads little).</li>
 *   <li>Each conversation samples from its own random stream, {@link #rowSeed}{@code (seed, question, choice, turn)},
 *       so an answer does not depend on the batch size or on which answers shared its batch. Temperature below
 *       1e-4 is greedy decoding (FastChat's {@code do_sample} rule).</li>
 *   <li>An answer is the generated tokens decoded without special tokens, then stripped of surrounding whitespace
 *       (Python's {@code str.strip}), as FastChat post-processes its outputs.</li>
 * </ol>
 */
public final class BenchmarkAnswers {

    /** FastChat's threshold: below it decoding is greedy. */
    public static final double GREEDY_BELOW = 1e-4;

    /** Told after every batch and every decoding step; may throw to stop (cancellation). */
    public interface Listener {
        /** After a batch: {@code done} of {@code total} answers (turns) generated. */
        void onProgress(int done, int total);

        /** After each decoding step. */
        default void onStep() {
        }
    }

    private BenchmarkAnswers() {
    }

    /** Generates every question's answers; the list follows the questions' order. */
    public static List<BenchmarkAnswer> generate(LlamaModel model, TextTokenizer tokenizer, BenchmarkFormat format,
            List<BenchmarkQuestion> questions, AnswerSettings settings, Listener listener) {
        Set<Integer> eos = tokenizer.eosTokenIds(model.config().eosTokenIds());
        Generator generator = new Generator(model, BlockMask.none());
        int choices = settings.choices();
        double[] temperatures = new double[questions.size()];
        int maxTurns = 0;
        int total = 0;
        for (int q = 0; q < questions.size(); q++) {
            BenchmarkQuestion question = questions.get(q);
            temperatures[q] = temperature(format, question, settings);
            maxTurns = Math.max(maxTurns, question.turns().size());
            total += question.turns().size() * choices;
        }
        // conversations[q * choices + c]: the messages so far; answers likewise
        List<List<ChatMessage>> conversations = new ArrayList<>();
        List<List<AnswerTurn>> answers = new ArrayList<>();
        for (int r = 0; r < questions.size() * choices; r++) {
            List<ChatMessage> m = new ArrayList<>();
            if (settings.systemPrompt() != null) {
                m.add(ChatMessage.system(settings.systemPrompt()));
            }
            conversations.add(m);
            answers.add(new ArrayList<>());
        }
        int done = 0;
        listener.onProgress(0, total);
        for (int turn = 0; turn < maxTurns; turn++) {
            // the conversations that have this turn, by temperature (one decoding configuration per batch)
            Map<Double, List<Row>> byTemperature = new LinkedHashMap<>();
            for (int q = 0; q < questions.size(); q++) {
                List<String> turns = questions.get(q).turns();
                if (turn >= turns.size()) {
                    continue;
                }
                for (int c = 0; c < choices; c++) {
                    int r = q * choices + c;
                    conversations.get(r).add(ChatMessage.user(turns.get(turn)));
                    int[] prompt = tokenizer.encodeChat(conversations.get(r), true);
                    byTemperature.computeIfAbsent(temperatures[q], t -> new ArrayList<>())
                            .add(new Row(r, prompt, rowSeed(settings.seed(), q, c, turn)));
                }
            }
            for (Map.Entry<Double, List<Row>> group : byTemperature.entrySet()) {
                GenerationConfig config = config(settings, group.getKey());
                List<Row> rows = new ArrayList<>(group.getValue());
                rows.sort(Comparator.comparingInt((Row row) -> -row.prompt.length).thenComparingInt(row -> row.index));
                for (int from = 0; from < rows.size(); from += settings.batchSize()) {
                    List<Row> batch = rows.subList(from, Math.min(rows.size(), from + settings.batchSize()));
                    long[] seeds = batch.stream().mapToLong(Row::seed).toArray();
                    List<GeneratedSequence> out = generator.generate(batch.stream().map(Row::prompt).toList(), config,
                            eos, seeds, listener::onStep);
                    for (int i = 0; i < batch.size(); i++) {
                        GeneratedSequence s = out.get(i);
                        String text = PythonStrings.strip(tokenizer.decode(s.tokens(), true));
                        int r = batch.get(i).index;
                        answers.get(r).add(new AnswerTurn(text, s.tokens().length, s.finishReason()));
                        conversations.get(r).add(ChatMessage.assistant(text));
                    }
                    done += batch.size();
                    listener.onProgress(done, total);
                }
            }
        }
        List<BenchmarkAnswer> result = new ArrayList<>();
        for (int q = 0; q < questions.size(); q++) {
            result.add(new BenchmarkAnswer(questions.get(q), temperatures[q],
                    answers.subList(q * choices, (q + 1) * choices)));
        }
        return result;
    }

    /** The temperature a question is answered at: the settings' one, else the benchmark's. */
    public static double temperature(BenchmarkFormat format, BenchmarkQuestion q, AnswerSettings settings) {
        return settings.temperature() != null ? settings.temperature() : format.defaultTemperature(q);
    }

    /** The decoding configuration at a temperature (greedy below {@link #GREEDY_BELOW}); EOS ends an answer. */
    public static GenerationConfig config(AnswerSettings settings, double temperature) {
        boolean sample = temperature >= GREEDY_BELOW;
        return new GenerationConfig(settings.maxNewTokens(), sample ? temperature : 0, settings.topP(), settings.topK(),
                settings.seed(), true);
    }

    /**
     * The seed of one conversation's turn: a fixed mix (SplitMix64's finaliser) of the job's seed and the question's
     * index, the choice and the turn, so different answers draw independent streams.
     */
    public static long rowSeed(long seed, int question, int choice, int turn) {
        long z = seed;
        for (long part : new long[] {question, choice, turn}) {
            z = mix(z + 0x9E3779B97F4A7C15L * (part + 1));
        }
        return z;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private record Row(int index, int[] prompt, long seed) {
    }
}
