package dev.amalgam.modelengine.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.amalgam.job.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The three judging modes end to end against a fake judge that answers from the prompt it receives; the prompts it
 * receives are checked against the published templates, written out here by hand.
 */
class JudgingTest {

    @TempDir
    Path dir;

    static ChatClient client(FakeJudgeServer server, int maxRetries) {
        return new ChatClient(server.baseUrl(), "judge", "k", new ChatClient.Options(60_000, maxRetries,
                Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofSeconds(10)), new Random(1));
    }

    Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    Path mtQuestions() throws Exception {
        return write("question.jsonl", """
                {"question_id": 81, "category": "writing", "turns": ["Write a haiku.", "Now make it rhyme."]}
                {"question_id": 111, "category": "math", "turns": ["What is 2+2?", "And 3+3?"], "reference": ["4", "6"]}
                """);
    }

    Path mtAnswers() throws Exception {
        return write("model.jsonl", """
                {"question_id": 81, "answer_id": "a", "model_id": "tiny", "choices": [{"index": 0, "turns": ["score 6", "score 8"]}], "tstamp": 1}
                {"question_id": 111, "answer_id": "b", "model_id": "tiny", "choices": [{"index": 0, "turns": ["score 3", "score 10"]}], "tstamp": 1}
                """);
    }

    /** Rates an answer by the "score N" it contains in the part being judged (the last assistant answer). */
    static FakeJudgeServer.Reply rateByAnswer(FakeJudgeServer.Seen s) {
        Matcher m = Pattern.compile("score (\\d+)").matcher(s.user());
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return FakeJudgeServer.Reply.ok("Explanation.\n\nRating: [[" + last + "]]");
    }

    @Test
    void mtBenchSendsFastChatsPromptsAndAveragesPerTurnAndCategory() throws Exception {
        List<JudgeTask> tasks = MtBench.tasks(MtBench.readQuestions(mtQuestions()), MtBench.readAnswers(mtAnswers()), Map.of());
        try (FakeJudgeServer server = new FakeJudgeServer(JudgingTest::rateByAnswer)) {
            List<JsonNode> records = Judging.run(tasks, client(server, 0), dir.resolve("j.jsonl"), Progress.NONE);
            assertThat(server.seen).hasSize(4);
            FakeJudgeServer.Seen general1 = server.seen.get(0);
            assertThat(general1.system()).isEqualTo("You are a helpful assistant.");
            assertThat(general1.user()).isEqualTo("[Instruction]\nPlease act as an impartial judge and evaluate the quality"
                    + " of the response provided by an AI assistant to the user question displayed below. Your evaluation"
                    + " should consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and level"
                    + " of detail of the response. Begin your evaluation by providing a short explanation. Be as objective"
                    + " as possible. After providing your explanation, you must rate the response on a scale of 1 to 10 by"
                    + " strictly following this format: \"[[rating]]\", for example: \"Rating: [[5]]\".\n\n[Question]\n"
                    + "Write a haiku.\n\n[The Start of Assistant's Answer]\nscore 6\n[The End of Assistant's Answer]");
            assertThat(general1.body().get("temperature").doubleValue()).isEqualTo(0.0);
            assertThat(general1.body().get("max_tokens").intValue()).isEqualTo(2048);
            FakeJudgeServer.Seen math2 = server.seen.get(3);
            assertThat(math2.system()).isEqualTo("Please act as an impartial judge and evaluate the quality of the response"
                    + " provided by an AI assistant to the user question. Your evaluation should consider correctness and"
                    + " helpfulness. You will be given a reference answer and the assistant's answer. You evaluation should"
                    + " focus on the assistant's answer to the second question. Begin your evaluation by comparing the"
                    + " assistant's answer with the reference answer. Identify and correct any mistakes. Be as objective as"
                    + " possible. After providing your explanation, you must rate the response on a scale of 1 to 10 by"
                    + " strictly following this format: \"[[rating]]\", for example: \"Rating: [[5]]\".\n\n");
            assertThat(math2.user()).isEqualTo("<|The Start of Reference Answer|>\n\n### User:\nWhat is 2+2?\n\n"
                    + "### Reference answer:\n4\n\n### User:\nAnd 3+3?\n\n### Reference answer:\n6\n\n"
                    + "<|The End of Reference Answer|>\n\n\n<|The Start of Assistant A's Conversation with User|>\n\n"
                    + "### User:\nWhat is 2+2?\n\n### Assistant A:\nscore 3\n\n### User:\nAnd 3+3?\n\n### Assistant A:\n"
                    + "score 10\n\n<|The End of Assistant A's Conversation with User|>");
            assertThat(records).extracting(r -> r.get("judge_prompt").stringValue())
                    .containsExactly("single-v1", "single-v1-multi-turn", "single-math-v1", "single-math-v1-multi-turn");

            MtBench.Report report = Judging.report(Judging.Benchmark.MT_BENCH, records).mtBench();
            assertThat(report.overall().score()).isCloseTo((6 + 8 + 3 + 10) / 4.0, offset(1e-12));
            assertThat(report.turn1().score()).isCloseTo((6 + 3) / 2.0, offset(1e-12));
            assertThat(report.turn2().score()).isCloseTo((8 + 10) / 2.0, offset(1e-12));
            assertThat(report.categories().get("math").score()).isCloseTo(6.5, offset(1e-12));
            assertThat(report.categories().get("writing").score()).isCloseTo(7.0, offset(1e-12));
            assertThat(report.unparsed()).isZero();
        }
    }

    @Test
    void mtBenchTakesTheReferencesFileOverTheQuestionsOwnReference() throws Exception {
        Path q = write("q.jsonl", "{\"question_id\": 7, \"category\": \"reasoning\", \"turns\": [\"Why?\"], \"reference\": [\"own\"]}\n");
        Path a = write("a.jsonl", "{\"question_id\": 7, \"model_id\": \"m\", \"choices\": [{\"index\": 0, \"turns\": [\"score 5\"]}]}\n");
        Path ref = write("ref.jsonl", "{\"question_id\": 7, \"model_id\": \"gpt-4\", \"choices\": [{\"index\": 0, \"turns\": [\"from-file\"]}]}\n");
        String withFile = MtBench.tasks(MtBench.readQuestions(q), MtBench.readAnswers(a), MtBench.readAnswers(ref)).get(0)
                .request().messages().get(1).content();
        assertThat(withFile).contains("[The Start of Reference Answer]\nfrom-file\n[The End of Reference Answer]");
        String own = MtBench.tasks(MtBench.readQuestions(q), MtBench.readAnswers(a), Map.of()).get(0)
                .request().messages().get(1).content();
        assertThat(own).contains("[The Start of Reference Answer]\nown\n[The End of Reference Answer]");
    }

    @Test
    void mtBenchNeedsAReferenceForMathAndAnAnswerForEveryQuestion() throws Exception {
        Path q = write("q.jsonl", "{\"question_id\": 1, \"category\": \"math\", \"turns\": [\"1+1?\"]}\n");
        Path a = write("a.jsonl", "{\"question_id\": 1, \"model_id\": \"m\", \"choices\": [{\"index\": 0, \"turns\": [\"2\"]}]}\n");
        assertThatThrownBy(() -> MtBench.tasks(MtBench.readQuestions(q), MtBench.readAnswers(a), Map.of()))
                .hasMessageContaining("question_id 1").hasMessageContaining("reference");
        Path other = write("b.jsonl", "{\"question_id\": 2, \"model_id\": \"m\", \"choices\": [{\"index\": 0, \"turns\": [\"2\"]}]}\n");
        assertThatThrownBy(() -> MtBench.tasks(MtBench.readQuestions(q), MtBench.readAnswers(other), MtBench.readAnswers(a)))
                .hasMessageContaining("no answer to question_id 1");
        Path bad = write("c.jsonl", "{\"question_id\": 1, \"model_id\": \"m\", \"choices\": []}\n");
        assertThatThrownBy(() -> MtBench.readAnswers(bad)).hasMessageContaining("c.jsonl line 1").hasMessageContaining("choices");
    }

    @Test
    void arenaHardPlaysTwoGamesWithPositionsSwappedAndScoresThem() throws Exception {
        Path q = write("question.jsonl", """
                {"uid": "u1", "category": "arena-hard-v0.1", "cluster": "c", "prompt": "Say hi."}
                {"uid": "u2", "category": "arena-hard-v0.1", "cluster": "c", "prompt": "Say bye."}
                """);
        Path model = write("model.jsonl", """
                {"uid": "u1", "ans_id": "x", "model": "tiny", "messages": [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": {"answer": "MODEL-1"}}], "tstamp": 1, "metadata": {}}
                {"uid": "u2", "ans_id": "y", "model": "tiny", "messages": [{"role": "user", "content": "Say bye."}, {"role": "assistant", "content": {"answer": "MODEL-2"}}], "tstamp": 1, "metadata": {}}
                """);
        Path base = write("base.jsonl", """
                {"uid": "u1", "model": "gpt-4-0314", "messages": [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": {"answer": "BASE-1"}}]}
                {"uid": "u2", "model": "gpt-4-0314", "messages": [{"role": "user", "content": "Say bye."}, {"role": "assistant", "content": {"answer": "BASE-2"}}]}
                """);
        List<JudgeTask> tasks = ArenaHard.tasks(ArenaHard.readQuestions(q), ArenaHard.readAnswers(model), ArenaHard.readAnswers(base));
        // u1: the judge prefers the model strongly in both positions; u2: the baseline slightly in game 1, a tie in game 2
        try (FakeJudgeServer server = new FakeJudgeServer(s -> {
            String u = s.user();
            boolean modelIsA = u.indexOf("MODEL") < u.indexOf("BASE");
            if (u.contains("-1")) {
                return FakeJudgeServer.Reply.ok("My final verdict is: " + (modelIsA ? "[[A>>B]]" : "[[B>>A]]"));
            }
            return FakeJudgeServer.Reply.ok(modelIsA ? "[[A=B]]" : "[[A>B]]");
        })) {
            List<JsonNode> records = Judging.run(tasks, client(server, 0), dir.resolve("j.jsonl"), Progress.NONE);
            assertThat(server.seen).hasSize(4);
            FakeJudgeServer.Seen g1 = server.seen.get(0);
            assertThat(g1.system()).startsWith("Please act as an impartial judge and evaluate the quality of the responses"
                    + " provided by two AI assistants to the user prompt displayed below.")
                    .endsWith("Example output: \"My final verdict is tie: [[A=B]]\".");
            assertThat(g1.user()).isEqualTo("<|User Prompt|>\nSay hi.\n\n<|The Start of Assistant A's Answer|>\nBASE-1\n"
                    + "<|The End of Assistant A's Answer|>\n\n<|The Start of Assistant B's Answer|>\nMODEL-1\n"
                    + "<|The End of Assistant B's Answer|>");
            assertThat(server.seen.get(1).user()).contains("Assistant A's Answer|>\nMODEL-1\n");
            assertThat(g1.body().get("max_tokens").intValue()).isEqualTo(4096);
            assertThat(g1.body().get("temperature").doubleValue()).isEqualTo(0.0);

            Judging.ArenaReport report = Judging.report(Judging.Benchmark.ARENA_HARD, records).arenaHard();
            // u1: game 2 A>>B -> [1,1,1]; game 1 B>>A -> 1 - [0,0,0]; u2: game 2 A=B -> [.5]; game 1 A>B -> 1 - [1]
            assertThat(report.score().rawScore()).isCloseTo(6.5 / 8, offset(1e-12));
            assertThat(report.score().battles()).isEqualTo(8);
            assertThat(report.questions()).isEqualTo(2);
            assertThat(report.model()).isEqualTo("tiny");
            assertThat(report.baseline()).isEqualTo("gpt-4-0314");
        }
    }

    @Test
    void alpacaEvalSendsTheClassifierPromptSwitchesOrderAndReportsWinRates() throws Exception {
        StringBuilder model = new StringBuilder("[");
        StringBuilder base = new StringBuilder("[");
        for (int i = 0; i < 8; i++) {
            String sep = i == 0 ? "" : ",";
            model.append(sep).append("{\"instruction\": \"task ").append(i).append("\", \"output\": \"GOOD")
                    .append("x".repeat(i)).append("\", \"generator\": \"tiny\", \"dataset\": \"helpful_base\"}");
            base.append(sep).append("{\"instruction\": \"task ").append(i)
                    .append("\", \"output\": \"plain\", \"generator\": \"gpt4_turbo\"}");
        }
        List<JudgeTask> tasks = AlpacaEval.tasks(AlpacaEval.readOutputs(write("model.json", model + "]")),
                AlpacaEval.readOutputs(write("base.json", base + "]")), AlpacaEval.Mode.WEIGHTED);
        // the judge puts 3:1 odds on the output that contains GOOD, whichever position it is shown in
        try (FakeJudgeServer server = new FakeJudgeServer(s -> {
            String u = s.user();
            boolean goodFirst = u.indexOf("GOOD") < u.indexOf("plain");
            Map<String, Double> top = goodFirst ? Map.of("m", Math.log(0.75), "M", Math.log(0.25))
                    : Map.of("M", Math.log(0.75), "m", Math.log(0.25));
            return FakeJudgeServer.Reply.withLogprobs(goodFirst ? "m" : "M", top);
        })) {
            List<JsonNode> records = Judging.run(tasks, client(server, 0), dir.resolve("j.jsonl"), Progress.NONE);
            FakeJudgeServer.Seen first = server.seen.get(0);
            assertThat(first.body().get("messages")).hasSize(2);
            assertThat(first.system()).isEqualTo("You are a highly efficient assistant, who evaluates and selects the best"
                    + " large language model (LLMs) based on the quality of their responses to a given instruction. This"
                    + " process will be used to create a leaderboard reflecting the most accurate and human-preferred answers.");
            boolean switched = records.get(0).get("is_switched_outputs").booleanValue();
            String shown1 = switched ? "GOOD" : "plain";
            String shown2 = switched ? "plain" : "GOOD";
            assertThat(first.user()).isEqualTo("I require a leaderboard for various large language models. I'll provide"
                    + " you with prompts given to these models and their corresponding outputs. Your task is to assess these"
                    + " responses, and select the model that produces the best output from a human perspective.\n\n"
                    + "## Instruction\n\n{\n    \"instruction\": \"\"\"task 0\"\"\",\n}\n\n## Model Outputs\n\n"
                    + "Here are the unordered outputs from the models. Each output is associated with a specific model,"
                    + " identified by a unique model identifier.\n\n{\n    {\n        \"model_identifier\": \"m\",\n"
                    + "        \"output\": \"\"\"" + shown1 + "\"\"\"\n    },\n    {\n        \"model_identifier\": \"M\",\n"
                    + "        \"output\": \"\"\"" + shown2 + "\"\"\"\n    }\n}\n\n## Task\n\nEvaluate the models based on"
                    + " the quality and relevance of their outputs, and select the model that generated the best output."
                    + " Answer by providing the model identifier of the best model. We will use your output as the name of"
                    + " the best model, so make sure your output only contains one of the following model identifiers and"
                    + " nothing else (no quotes, no spaces, no new lines, ...): m or M.\n\n## Best Model Identifier");
            assertThat(first.body().get("max_tokens").intValue()).isEqualTo(1);
            assertThat(first.body().get("top_logprobs").intValue()).isEqualTo(5);
            // both positions occur among 8 instructions, and the preference is switched back: always 1.75 for the model
            assertThat(records).extracting(r -> r.get("is_switched_outputs").booleanValue()).contains(true, false);
            assertThat(records).allSatisfy(r -> assertThat(r.get("preference").doubleValue()).isCloseTo(1.75, offset(1e-12)));

            Judging.AlpacaReport report = Judging.report(Judging.Benchmark.ALPACA_EVAL_WEIGHTED, records).alpacaEval();
            assertThat(report.winRate().winRate()).isCloseTo(75.0, offset(1e-9));
            assertThat(report.winRate().discreteWinRate()).isCloseTo(100.0, offset(1e-9));
            assertThat(report.model()).isEqualTo("tiny");
            assertThat(report.baseline()).isEqualTo("gpt4_turbo");
            assertThat(report.lengthControlled().n()).isEqualTo(8);
        }
    }

    @Test
    void theWeightedAnnotatorRefusesAnEndpointWithoutLogprobs() throws Exception {
        Path m = write("m.json", "[{\"instruction\": \"a\", \"output\": \"x\", \"generator\": \"g\"}]");
        Path b = write("b.json", "[{\"instruction\": \"a\", \"output\": \"y\", \"generator\": \"h\"}]");
        List<JudgeTask> tasks = AlpacaEval.tasks(AlpacaEval.readOutputs(m), AlpacaEval.readOutputs(b), AlpacaEval.Mode.WEIGHTED);
        try (FakeJudgeServer server = new FakeJudgeServer(s -> FakeJudgeServer.Reply.ok("m"))) {
            assertThatThrownBy(() -> Judging.run(tasks, client(server, 0), dir.resolve("j.jsonl"), Progress.NONE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no top_logprobs");
        }
    }

    @Test
    void alpacaEvalPairsByInstructionAndNamesTheMissingOne() throws Exception {
        Path m = write("m.json", "[{\"instruction\": \"a\", \"output\": \"x\", \"generator\": \"g\"}]");
        Path b = write("b.jsonl", "{\"instruction\": \"b\", \"output\": \"y\", \"generator\": \"h\"}\n");
        assertThatThrownBy(() -> AlpacaEval.tasks(AlpacaEval.readOutputs(m), AlpacaEval.readOutputs(b), AlpacaEval.Mode.TEXT))
                .hasMessageContaining("answers item 0").hasMessageContaining("'a'");
        Path bad = write("bad.json", "[{\"instruction\": \"a\", \"generator\": \"g\"}]");
        assertThatThrownBy(() -> AlpacaEval.readOutputs(bad)).hasMessageContaining("bad.json item 0").hasMessageContaining("output");
    }

    @Test
    void parallelRequestsOverlapAndGiveTheSameRecordsInTaskOrder() throws Exception {
        List<JudgeTask> tasks = MtBench.tasks(MtBench.readQuestions(mtQuestions()), MtBench.readAnswers(mtAnswers()), Map.of());
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        try (FakeJudgeServer server = new FakeJudgeServer(s -> {
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            inFlight.decrementAndGet();
            return rateByAnswer(s);
        })) {
            Path file = dir.resolve("p.jsonl");
            List<JsonNode> records = Judging.run(tasks, client(server, 0), file, Progress.NONE, 4);
            assertThat(most.get()).isGreaterThan(1);
            assertThat(records).extracting(r -> r.get("key").stringValue())
                    .containsExactly("mt_bench/81/turn1", "mt_bench/81/turn2", "mt_bench/111/turn1", "mt_bench/111/turn2");
            assertThat(records).extracting(r -> r.get("score").doubleValue()).containsExactly(6.0, 8.0, 3.0, 10.0);
            // every line whole, whatever order the answers came back in
            assertThat(Files.readAllLines(file)).hasSize(4)
                    .allSatisfy(l -> assertThat(FakeJudgeServer.JSON.readTree(l).get("key").isString()).isTrue());
        }
    }

    @Test
    void aFailingEndpointKeepsTheJudgmentsMadeAndALaterRunJudgesOnlyTheRest() throws Exception {
        List<JudgeTask> tasks = MtBench.tasks(MtBench.readQuestions(mtQuestions()), MtBench.readAnswers(mtAnswers()), Map.of());
        Path file = dir.resolve("judgments.jsonl");
        AtomicInteger calls = new AtomicInteger();
        try (FakeJudgeServer server = new FakeJudgeServer(s -> calls.incrementAndGet() <= 2 ? rateByAnswer(s)
                : FakeJudgeServer.Reply.error(500, "upstream exploded"))) {
            assertThatThrownBy(() -> Judging.run(tasks, client(server, 2), file, Progress.NONE))
                    .isInstanceOfSatisfying(JudgeEndpointException.class, e -> {
                        assertThat(e.status()).isEqualTo(500);
                        assertThat(e.endpointMessage()).isEqualTo("upstream exploded");
                    });
            assertThat(server.seen).hasSize(2 + 3); // two judged, then the first attempt and two retries of the third
        }
        assertThat(Files.readAllLines(file)).hasSize(2);
        // a torn line, as a crash mid-write leaves it, is dropped
        Files.writeString(file, "{\"key\": \"mt_bench/111/tu", java.nio.file.StandardOpenOption.APPEND);
        try (FakeJudgeServer server = new FakeJudgeServer(JudgingTest::rateByAnswer)) {
            List<JsonNode> records = Judging.run(tasks, client(server, 0), file, Progress.NONE);
            assertThat(server.seen).hasSize(2);
            assertThat(records).extracting(r -> r.get("score").doubleValue()).containsExactly(6.0, 8.0, 3.0, 10.0);
        }
        assertThat(Files.readAllLines(file)).hasSize(4);
    }
}
