package dev.amalgam.modelengine.answers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.eval.PythonStrings;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class BenchmarkAnswersTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochMilli(1_700_000_000_250L), ZoneOffset.UTC);

    @TempDir
    Path dir;

    private LlamaModel model;
    private TextTokenizer tokenizer;

    @BeforeEach
    void tiny() {
        Path m = dir.resolve("model");
        TinyModels.write(Architecture.LLAMA, m, new TinySizes(32, 64, 2, 4, 2, 256, DType.F32), 11);
        model = CheckpointLoader.load(m, EngineOptions.cpu());
        tokenizer = TextTokenizer.load(m);
    }

    @AfterEach
    void close() {
        tokenizer.close();
        model.close();
    }

    private Path file(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    /** The test's own greedy loop: the whole conversation re-run per token, no cache, no batch, argmax; EOS stops. */
    private String naiveGreedyAnswer(List<ChatMessage> conversation, int maxNewTokens) {
        List<Integer> seq = new ArrayList<>();
        for (int t : tokenizer.encodeChat(conversation, true)) {
            seq.add(t);
        }
        Set<Integer> eos = tokenizer.eosTokenIds(model.config().eosTokenIds());
        List<Integer> out = new ArrayList<>();
        int vocab = model.config().vocabSize();
        for (int i = 0; i < maxNewTokens; i++) {
            try (NDManager m = model.manager().newSubManager()) {
                long[][] ids = {seq.stream().mapToLong(Integer::longValue).toArray()};
                float[] logits = model.logits(m.create(ids), null, BlockMask.none()).toFloatArray();
                int off = (seq.size() - 1) * vocab;
                int best = 0;
                for (int v = 1; v < vocab; v++) {
                    best = logits[off + v] > logits[off + best] ? v : best;
                }
                out.add(best);
                seq.add(best);
                if (eos.contains(best)) {
                    break;
                }
            }
        }
        return PythonStrings.strip(tokenizer.decode(out.stream().mapToInt(Integer::intValue).toArray(), true));
    }

    private List<BenchmarkAnswer> run(BenchmarkFormat format, List<BenchmarkQuestion> qs, AnswerSettings s) {
        return BenchmarkAnswers.generate(model, tokenizer, format, qs, s, (done, total) -> { });
    }

    private static AnswerSettings settings(int maxNewTokens, Double temperature, int choices, int batchSize) {
        return new AnswerSettings(maxNewTokens, temperature, 1.0, 0, 7, choices, null, batchSize);
    }

    @Test
    void mtBenchGreedyTurnsEqualANaiveArgmaxLoopOverTheChatTemplatedConversation() throws Exception {
        Path q = file("question.jsonl", """
                {"question_id": 81, "category": "math", "turns": ["What is 2+2?", "And times 3?"]}
                {"question_id": 82, "category": "coding", "turns": ["Write hello world in C.", "Now in Java."]}
                """);
        List<BenchmarkQuestion> qs = BenchmarkFormat.MT_BENCH.load(q, null);
        List<BenchmarkAnswer> answers = run(BenchmarkFormat.MT_BENCH, qs, settings(6, null, 1, 2));
        for (int i = 0; i < 2; i++) {
            BenchmarkQuestion question = qs.get(i);
            List<AnswerTurn> turns = answers.get(i).choices().get(0);
            assertThat(answers.get(i).temperature()).isEqualTo(0.0); // math and coding are greedy in FastChat
            String first = naiveGreedyAnswer(List.of(ChatMessage.user(question.turns().get(0))), 6);
            assertThat(turns.get(0).text()).isEqualTo(first);
            // the second turn sees the first answer (as FastChat's conversation does)
            String second = naiveGreedyAnswer(List.of(ChatMessage.user(question.turns().get(0)),
                    ChatMessage.assistant(first), ChatMessage.user(question.turns().get(1))), 6);
            assertThat(turns.get(1).text()).isEqualTo(second);
            assertThat(turns.get(1).tokens()).isBetween(1, 6);
        }
    }

    @Test
    void mtBenchAnswerFileParsesBackFieldByFieldSortedByQuestionId() throws Exception {
        Path q = file("question.jsonl", """
                {"question_id": 102, "category": "writing", "turns": ["Write a haiku.", "Make it sadder."]}
                {"question_id": 7, "category": "stem", "turns": ["Why is the sky blue?", "Shorter."]}
                {"question_id": 55, "category": "unknown-category", "turns": ["Hi", "Bye"]}
                """);
        List<BenchmarkQuestion> qs = BenchmarkFormat.MT_BENCH.load(q, null);
        AnswerSettings s = settings(4, null, 2, 8);
        List<BenchmarkAnswer> answers = run(BenchmarkFormat.MT_BENCH, qs, s);
        Path out = dir.resolve(BenchmarkFormat.MT_BENCH.answerFileName("tiny-chat"));
        new AnswerFiles(CLOCK).write(BenchmarkFormat.MT_BENCH, "tiny-chat", answers, s, tokenizer, out);
        assertThat(out.getFileName().toString()).isEqualTo("tiny-chat.jsonl");
        List<String> lines = Files.readAllLines(out);
        assertThat(lines).hasSize(3);
        int[] order = {1, 2, 0}; // ids 7, 55, 102
        double[] temperatures = {0.7, 0.1, 0.7}; // by question: writing, stem, other (FastChat's default 0.7)
        for (int i = 0; i < 3; i++) {
            JsonNode row = JSON.readTree(lines.get(i));
            BenchmarkAnswer a = answers.get(order[i]);
            assertThat(row.properties().stream().map(e -> e.getKey()).toList())
                    .containsExactly("question_id", "answer_id", "model_id", "choices", "tstamp", "generate_params");
            assertThat(row.get("question_id").isInt()).isTrue();
            assertThat(row.get("question_id").asInt()).isEqualTo(a.question().id().asInt());
            assertThat(row.get("answer_id").asString()).hasSize(22)
                    .matches("[" + AnswerFiles.SHORTUUID_ALPHABET + "]+");
            assertThat(row.get("model_id").asString()).isEqualTo("tiny-chat");
            assertThat(row.get("tstamp").asDouble()).isEqualTo(1_700_000_000.25);
            assertThat(row.get("choices")).hasSize(2);
            for (int c = 0; c < 2; c++) {
                JsonNode choice = row.get("choices").get(c);
                assertThat(choice.get("index").asInt()).isEqualTo(c);
                assertThat(choice.get("turns")).hasSize(2);
                assertThat(choice.get("turns").get(0).asString()).isEqualTo(a.choices().get(c).get(0).text());
                assertThat(choice.get("turns").get(1).asString()).isEqualTo(a.choices().get(c).get(1).text());
            }
            JsonNode p = row.get("generate_params");
            assertThat(p.get("temperature").asDouble()).isEqualTo(temperatures[order[i]]);
            assertThat(p.get("do_sample").asBoolean()).isTrue();
            assertThat(p.get("max_new_token").asInt()).isEqualTo(4);
            assertThat(p.get("top_p").asDouble()).isEqualTo(1.0);
            assertThat(p.get("seed").asLong()).isEqualTo(7);
        }
        assertThat(JSON.readTree(lines.get(0)).get("answer_id").asString())
                .isNotEqualTo(JSON.readTree(lines.get(1)).get("answer_id").asString());
    }

    @Test
    void answersDoNotDependOnTheBatchSizeGreedyOrSampled() throws Exception {
        Path q = file("question.jsonl", """
                {"question_id": 1, "category": "writing", "turns": ["A", "B"]}
                {"question_id": 2, "category": "math", "turns": ["Longer question here", "C"]}
                {"question_id": 3, "category": "roleplay", "turns": ["Pretend.", "More"]}
                {"question_id": 4, "category": "writing", "turns": ["One more, rather long, question?", "D"]}
                """);
        List<BenchmarkQuestion> qs = BenchmarkFormat.MT_BENCH.load(q, null);
        List<BenchmarkAnswer> one = run(BenchmarkFormat.MT_BENCH, qs, settings(5, null, 2, 1));
        List<BenchmarkAnswer> three = run(BenchmarkFormat.MT_BENCH, qs, settings(5, null, 2, 3));
        for (int i = 0; i < qs.size(); i++) {
            assertThat(three.get(i).choices()).isEqualTo(one.get(i).choices());
        }
        // sampled questions' two choices draw different streams (at temperature 0.7 over 260 tokens, 5 tokens
        // agreeing in both turns would be a seed mix-up)
        assertThat(one.get(0).choices().get(0)).isNotEqualTo(one.get(0).choices().get(1));
        // the greedy question's choices are equal
        assertThat(one.get(1).choices().get(0)).isEqualTo(one.get(1).choices().get(1));
    }

    @Test
    void aGivenTemperatureOverridesTheCategoriesAndZeroIsGreedy() throws Exception {
        Path q = file("question.jsonl", """
                {"question_id": 1, "category": "writing", "turns": ["Tell a story."]}
                """);
        List<BenchmarkQuestion> qs = BenchmarkFormat.MT_BENCH.load(q, null);
        List<BenchmarkAnswer> a = run(BenchmarkFormat.MT_BENCH, qs, settings(5, 0.0, 2, 4));
        assertThat(a.get(0).temperature()).isEqualTo(0.0);
        assertThat(a.get(0).choices().get(0)).isEqualTo(a.get(0).choices().get(1));
        assertThat(a.get(0).choices().get(0).get(0).text())
                .isEqualTo(naiveGreedyAnswer(List.of(ChatMessage.user("Tell a story.")), 5));
        // below FastChat's 1e-4 threshold is greedy too
        assertThat(BenchmarkAnswers.config(settings(5, 5e-5, 1, 1), 5e-5).doSample()).isFalse();
        assertThat(BenchmarkAnswers.config(settings(5, 1e-4, 1, 1), 1e-4).doSample()).isTrue();
    }

    @Test
    void systemPromptComesFirstInEveryConversation() throws Exception {
        Path q = file("question.jsonl", "{\"uid\": \"a1\", \"category\": \"hard_prompt\", \"prompt\": \"Hello?\"}\n");
        List<BenchmarkQuestion> qs = BenchmarkFormat.ARENA_HARD.load(q, null);
        AnswerSettings s = new AnswerSettings(5, null, 1.0, 0, 0, 1, "Be brief.", 2);
        List<BenchmarkAnswer> a = run(BenchmarkFormat.ARENA_HARD, qs, s);
        assertThat(a.get(0).choices().get(0).get(0).text()).isEqualTo(
                naiveGreedyAnswer(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hello?")), 5));
    }

    @Test
    void alpacaEvalOutputsKeepOrderInstructionAndDatasetAndNameTheGenerator() throws Exception {
        Path q = file("alpaca_eval.json", """
                [{"instruction": "Name a color.", "output": "reference answer", "generator": "gpt4", "dataset": "helpful_base"},
                 {"instruction": "Count to three.", "dataset": "koala"},
                 {"instruction": "No dataset here."}]
                """);
        List<BenchmarkQuestion> qs = BenchmarkFormat.ALPACA_EVAL.load(q, null);
        AnswerSettings s = new AnswerSettings(4, 0.0, 1.0, 0, 0, 1, null, 2);
        List<BenchmarkAnswer> answers = run(BenchmarkFormat.ALPACA_EVAL, qs, s);
        Path out = dir.resolve(BenchmarkFormat.ALPACA_EVAL.answerFileName("m"));
        new AnswerFiles(CLOCK).write(BenchmarkFormat.ALPACA_EVAL, "my-model", answers, s, tokenizer, out);
        JsonNode all = JSON.readTree(out.toFile());
        assertThat(all.isArray()).isTrue();
        assertThat(all).hasSize(3);
        String[] instructions = {"Name a color.", "Count to three.", "No dataset here."};
        String[] datasets = {"helpful_base", "koala", null};
        for (int i = 0; i < 3; i++) {
            JsonNode o = all.get(i);
            assertThat(o.get("instruction").asString()).isEqualTo(instructions[i]);
            assertThat(o.get("output").asString())
                    .isEqualTo(naiveGreedyAnswer(List.of(ChatMessage.user(instructions[i])), 4));
            assertThat(o.get("generator").asString()).isEqualTo("my-model");
            if (datasets[i] == null) {
                assertThat(o.has("dataset")).isFalse();
            } else {
                assertThat(o.get("dataset").asString()).isEqualTo(datasets[i]);
            }
        }
    }

    @Test
    void arenaHardAnswerFileHasMessagesAndStyleMetadataSortedByUid() throws Exception {
        Path q = file("question.jsonl", """
                {"uid": "ff01", "category": "hard_prompt", "subcategory": "coding", "prompt": "Write a sort."}
                {"uid": "0a9b", "category": "creative_writing", "prompt": "A poem, please."}
                """);
        List<BenchmarkQuestion> qs = BenchmarkFormat.ARENA_HARD.load(q, null);
        AnswerSettings s = AnswerSettings.defaults(BenchmarkFormat.ARENA_HARD);
        s = new AnswerSettings(5, s.temperature(), s.topP(), s.topK(), s.seed(), 1, "You are helpful.", 4);
        List<BenchmarkAnswer> answers = run(BenchmarkFormat.ARENA_HARD, qs, s);
        Path out = dir.resolve("arena.jsonl");
        new AnswerFiles(CLOCK).write(BenchmarkFormat.ARENA_HARD, "tiny", answers, s, tokenizer, out);
        List<String> lines = Files.readAllLines(out);
        assertThat(lines).hasSize(2);
        String[] uids = {"0a9b", "ff01"};
        String[] prompts = {"A poem, please.", "Write a sort."};
        for (int i = 0; i < 2; i++) {
            JsonNode row = JSON.readTree(lines.get(i));
            assertThat(row.properties().stream().map(e -> e.getKey()).toList())
                    .containsExactly("uid", "ans_id", "model", "messages", "tstamp", "metadata");
            assertThat(row.get("uid").asString()).isEqualTo(uids[i]);
            assertThat(row.get("ans_id").asString()).hasSize(22);
            assertThat(row.get("model").asString()).isEqualTo("tiny");
            JsonNode m = row.get("messages");
            assertThat(m).hasSize(3);
            assertThat(m.get(0).get("role").asString()).isEqualTo("system");
            assertThat(m.get(0).get("content").asString()).isEqualTo("You are helpful.");
            assertThat(m.get(1).get("role").asString()).isEqualTo("user");
            assertThat(m.get(1).get("content").asString()).isEqualTo(prompts[i]);
            assertThat(m.get(2).get("role").asString()).isEqualTo("assistant");
            String answer = m.get(2).get("content").get("answer").asString();
            assertThat(answer).isEqualTo(naiveGreedyAnswer(
                    List.of(ChatMessage.system("You are helpful."), ChatMessage.user(prompts[i])), 5));
            JsonNode meta = row.get("metadata");
            assertThat(meta.get("token_len").asInt()).isEqualTo(tokenizer.encode(answer, false).length);
            assertThat(meta.get("header_count").properties()).hasSize(6);
            assertThat(meta.get("list_count").has("ordered")).isTrue();
            assertThat(meta.get("bold_count").has("**")).isTrue();
        }
    }

    @Test
    void markdownCountsFollowArenaHardsRegexesWithCodeBlocksRemoved() {
        String answer = """
                # Title
                ## Part
                #NoSpace
                ### Three
                1. first
                  2. second
                - item
                * star item
                + plus item
                This is **bold** and __also__ and **not
                bold**.
                ```python
                # not a header
                - not a list
                ```
                Done.""";
        JsonNode c = new AnswerFiles(CLOCK).markdownCounts(answer);
        assertThat(c.get("header_count").get("h1").asInt()).isEqualTo(1);
        assertThat(c.get("header_count").get("h2").asInt()).isEqualTo(1);
        assertThat(c.get("header_count").get("h3").asInt()).isEqualTo(1);
        assertThat(c.get("header_count").get("h4").asInt()).isZero();
        assertThat(c.get("list_count").get("ordered").asInt()).isEqualTo(2);
        assertThat(c.get("list_count").get("unordered").asInt()).isEqualTo(3);
        assertThat(c.get("bold_count").get("**").asInt()).isEqualTo(1);
        assertThat(c.get("bold_count").get("__").asInt()).isEqualTo(1);
        // remove_pattern removes the block's content (the fences stay)
        assertThat(AnswerFiles.removeCodeBlocks("a```x\ny```b")).isEqualTo("a``````b");
    }

    @Test
    void badQuestionsNameTheFileLineAndField() throws Exception {
        Path mt = file("q.jsonl", """
                {"question_id": 1, "category": "math", "turns": ["a"]}
                {"question_id": 2, "category": "math", "turns": ["a", 3]}
                """);
        assertThatThrownBy(() -> BenchmarkFormat.MT_BENCH.load(mt, null))
                .hasMessage("q.jsonl line 2 (mt_bench): turns[1]: must be a string");
        Path dup = file("d.jsonl", """
                {"question_id": 1, "category": "math", "turns": ["a"]}

                {"question_id": 1, "category": "math", "turns": ["b"]}
                """);
        assertThatThrownBy(() -> BenchmarkFormat.MT_BENCH.load(dup, null))
                .hasMessage("d.jsonl line 3 (mt_bench): question_id: 1 is used by an earlier question");
        Path noCat = file("c.jsonl", "{\"question_id\": 1, \"turns\": [\"a\"]}\n");
        assertThatThrownBy(() -> BenchmarkFormat.MT_BENCH.load(noCat, null))
                .hasMessage("c.jsonl line 1 (mt_bench): category: must be a string (missing)");
        Path arena = file("a.jsonl", "{\"uid\": 5, \"prompt\": \"x\"}\n");
        assertThatThrownBy(() -> BenchmarkFormat.ARENA_HARD.load(arena, null))
                .hasMessage("a.jsonl line 1 (arena_hard): uid: must be a string");
        Path alpaca = file("e.json", "[{\"instruction\": \"ok\"}, {\"output\": \"no instruction\"}]");
        assertThatThrownBy(() -> BenchmarkFormat.ALPACA_EVAL.load(alpaca, null))
                .hasMessage("e.json [1] (alpaca_eval): instruction: must be a string (missing)");
        Path input = file("i.jsonl", "{\"instruction\": \"ok\", \"input\": \"extra\"}\n");
        assertThatThrownBy(() -> BenchmarkFormat.ALPACA_EVAL.load(input, null))
                .hasMessageStartingWith("i.jsonl line 1 (alpaca_eval): input: a non-empty 'input' is not supported");
        Path notJson = file("n.jsonl", "{\"uid\": \"a\", \"prompt\": \"x\"}\nnot json\n");
        assertThatThrownBy(() -> BenchmarkFormat.ARENA_HARD.load(notJson, null))
                .hasMessageStartingWith("n.jsonl line 2: not JSON");
        Path empty = file("empty.jsonl", "\n\n");
        assertThatThrownBy(() -> BenchmarkFormat.ARENA_HARD.load(empty, null)).hasMessage("empty.jsonl has no questions");
    }

    @Test
    void limitReadsOnlyTheFirstQuestionsAndAlpacaEvalAlsoReadsJsonl() throws Exception {
        Path q = file("q.jsonl", """
                {"instruction": "one"}
                {"instruction": "two"}
                this line is never read
                """);
        List<BenchmarkQuestion> qs = BenchmarkFormat.ALPACA_EVAL.load(q, 2);
        assertThat(qs).extracting(x -> x.turns().get(0)).containsExactly("one", "two");
        assertThat(qs.get(0).id()).isNull();
    }
}
