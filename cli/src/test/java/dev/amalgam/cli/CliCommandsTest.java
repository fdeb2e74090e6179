package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.fusion.fusechat.repr.ModelRepresentations;
import dev.amalgam.fusion.fusechat.repr.RepresentationFormat;
import dev.amalgam.fusion.fusechat.repr.RepresentationReader;
import dev.amalgam.fusion.fusechat.repr.RepresentationSettings;
import dev.amalgam.fusion.fusechat.repr.SampleRepresentation;
import dev.amalgam.fusionservice.FusionJobType;
import dev.amalgam.fusionservice.RepresentationJobType;
import dev.amalgam.mergeservice.MergeJobType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.pruningservice.EvaluationJobType;
import dev.amalgam.pruningservice.PruningJobType;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The local commands, run as a user would, through the same parser as the amalgam launcher. */
class CliCommandsTest {

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            var cl = Amalgam.commandLine();
            cl.setErr(new java.io.PrintWriter(System.err, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void mergeOfOneModelAtWeightOneReproducesItExactly() throws Exception {
        Path a = dir.resolve("a");
        assertThat(run("tiny-model", "--arch", "mistral", "--out", a.toString(), "--seed", "3").code()).isZero();
        Path config = dir.resolve("merge.yml");
        Files.writeString(config, """
                merge_method: linear
                models:
                  - model: %s
                    parameters:
                      weight: 1.0
                dtype: bfloat16
                author: someone
                """.formatted(a));
        Path out = dir.resolve("out");
        Run r = run("merge", config.toString(), out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("100%");
        JsonNode summary = JsonMapper.builder().build().readTree(r.out());
        assertThat(summary.get("method").asString()).isEqualTo("linear");
        ApiSchemasTest.assertMatchesResultSchema(new MergeJobType(), summary);
        // an unknown key is ignored, as mergekit ignores it, and said so in the summary
        assertThat(summary.get("warnings").toString()).contains("unknown key 'author' is ignored (as mergekit does)");
        try (HfModelDir in = HfModelDir.open(a); HfModelDir merged = HfModelDir.open(out)) {
            assertThat(merged.tensorNames()).isEqualTo(in.tensorNames());
            for (String name : in.tensorNames()) {
                assertThat(merged.tensor(name).rawBytes()).as(name).isEqualTo(in.tensor(name).rawBytes());
            }
            assertThat(Files.exists(out.resolve("tokenizer.json"))).isTrue();
        }
    }

    @Test
    void badMergeConfigListsEveryProblemAndWritesNothing() throws Exception {
        Path config = dir.resolve("bad.yml");
        Files.writeString(config, """
                merge_method: ties
                base_model: does/not/exist
                models:
                  - model: also/missing
                    parameters:
                      density: 1.5
                """);
        Run r = run("merge", config.toString(), dir.resolve("out").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("density").contains("1.5");
        assertThat(Files.exists(dir.resolve("out"))).isFalse();
        assertThat(run("merge", dir.resolve("missing.yml").toString(), "x").err()).contains("config file not found");

        // a well-formed config naming models that are not there: every missing model is listed
        Files.writeString(config, """
                merge_method: linear
                models:
                  - model: does/not/exist
                    parameters: {weight: 1.0}
                  - model: also/missing
                    parameters: {weight: 1.0}
                """);
        Run missing = run("merge", config.toString(), dir.resolve("out").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("does/not/exist").contains("also/missing");
        assertThat(Files.exists(dir.resolve("out"))).isFalse();
    }

    @Test
    void evalPrintsPerplexityAsJsonAndGenerateCompletes() throws Exception {
        Path m = dir.resolve("m");
        run("tiny-model", "--arch", "qwen2", "--out", m.toString(), "--seed", "5");
        Path data = dir.resolve("d.jsonl");
        Files.writeString(data, "{\"text\": \"a little text to read, a little text to predict, and more text again\"}\n");
        Run r = run("eval", "--model", m.toString(), "--data", data.toString(), "--seq-len", "16");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = JsonMapper.builder().build().readTree(r.out());
        assertThat(r.out().trim()).as("stdout holds only the JSON").startsWith("{").endsWith("}");
        assertThat(r.err()).as("progress on stderr").contains("evaluating").contains("100%").contains("chunks");
        assertThat(json.get("perplexity").asDouble()).isGreaterThan(1.0);
        assertThat(json.get("tokens").asLong()).isPositive();
        ApiSchemasTest.assertMatchesResultSchema(new EvaluationJobType("cpu"), json);

        Run g = run("generate", "--model", m.toString(), "--prompt", "hi", "--max-new-tokens", "5");
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(g.err()).contains("tokens");
    }

    @Test
    void generateWritesAnArenaHardAnswerFileAndPrintsAResultMatchingItsSchema() throws Exception {
        Path m = dir.resolve("tiny-chat");
        run("tiny-model", "--arch", "llama", "--out", m.toString(), "--seed", "4");
        Path q = dir.resolve("question.jsonl");
        Files.writeString(q, """
                {"uid": "b2", "category": "hard_prompt", "prompt": "Explain sorting."}
                {"uid": "a1", "category": "hard_prompt", "prompt": "Write a haiku."}
                {"uid": "c3", "category": "hard_prompt", "prompt": "Never answered (limit 2)."}
                """);
        Path out = dir.resolve("answers");
        Run r = run("generate", "--model", m.toString(), "--questions", q.toString(), "--format", "arena_hard",
                "--out", out.toString(), "--max-new-tokens", "4", "--limit", "2", "--batch-size", "2");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).as("progress on stderr").contains("answers: 2 of 2");
        JsonNode json = JsonMapper.builder().build().readTree(r.out());
        ApiSchemasTest.assertMatchesResultSchema(new dev.amalgam.pruningservice.GenerateJobType("cpu"), json);
        assertThat(json.get("modelId").asString()).as("the directory's name").isEqualTo("tiny-chat");
        assertThat(json.get("settings").get("temperature").isNull()).isTrue();
        assertThat(json.get("settings").get("temperatures").get("hard_prompt").asDouble()).isEqualTo(0.0);
        assertThat(json.get("settings").get("topK").asInt()).isZero();
        List<String> lines = Files.readAllLines(out.resolve("tiny-chat.jsonl"));
        assertThat(lines).hasSize(2);
        JsonNode first = JsonMapper.builder().build().readTree(lines.get(0));
        assertThat(first.get("uid").asString()).isEqualTo("a1");
        assertThat(first.get("model").asString()).isEqualTo("tiny-chat");
        assertThat(first.get("messages").get(0).get("content").asString()).isEqualTo("Write a haiku.");
        assertThat(first.get("messages").get(1).get("content").has("answer")).isTrue();

        Run both = run("generate", "--model", m.toString(), "--prompt", "x", "--questions", q.toString());
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("either --prompt");
        Run noFormat = run("generate", "--model", m.toString(), "--questions", q.toString(), "--out", dir.resolve("o2").toString());
        assertThat(noFormat.code()).isEqualTo(2);
        assertThat(noFormat.err()).contains("--questions needs --format and --out");
        Run badFormat = run("generate", "--model", m.toString(), "--questions", q.toString(), "--format", "mt_bench",
                "--out", dir.resolve("o3").toString());
        assertThat(badFormat.code()).isEqualTo(2);
        assertThat(badFormat.err()).contains("questions: question.jsonl line 1 (mt_bench): question_id");
    }

    @Test
    void evalScoresMultipleChoiceTasksNextToPerplexity() throws Exception {
        Path m = dir.resolve("m");
        run("tiny-model", "--arch", "llama", "--out", m.toString(), "--seed", "3");
        Path data = dir.resolve("d.jsonl");
        Files.writeString(data, "{\"text\": \"a little text to read, a little text to predict, and more text again\"}\n");
        Path arc = dir.resolve("arc.jsonl");
        Files.writeString(arc, """
                {"question": "Which is a liquid?", "choices": {"text": ["ice", "water", "steam"], "label": ["A", "B", "C"]}, "answerKey": "B"}
                {"question": "What melts ice?", "choices": {"text": ["heat", "cold"], "label": ["A", "B"]}, "answerKey": "A"}
                {"question": "Not read", "choices": {"text": ["x"], "label": ["A"]}, "answerKey": "Z"}
                """);
        Path generic = dir.resolve("g.jsonl");
        Files.writeString(generic, "{\"context\": \"1 + 1 =\", \"choices\": [\"2\", \"3\"], \"gold\": 0}\n");
        Run r = run("eval", "--model", m.toString(), "--data", data.toString(), "--seq-len", "16",
                "--task", "arc=arc_easy:" + arc, "--task", "sums=generic:" + generic, "--limit", "2", "--batch-size", "2");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = JsonMapper.builder().build().readTree(r.out());
        ApiSchemasTest.assertMatchesResultSchema(new EvaluationJobType("cpu"), json);
        assertThat(json.get("perplexity").asDouble()).isGreaterThan(1.0);
        assertThat(json.get("tasks")).hasSize(2);
        JsonNode a = json.get("tasks").get(0);
        JsonNode g = json.get("tasks").get(1);
        assertThat(a.get("name").asString()).isEqualTo("arc");
        assertThat(a.get("docs").asInt()).as("--limit 2: the bad third record is never read").isEqualTo(2);
        assertThat(g.get("docs").asInt()).isEqualTo(1);
        assertThat(g.get("accStderr").isNull()).as("one document: no standard error, as lm-eval's N/A").isTrue();
        assertThat(json.get("average").asDouble())
                .isEqualTo((a.get("accNorm").asDouble() + g.get("accNorm").asDouble()) / 2);
        assertThat(r.err()).contains("arc: ").contains("choices");

        Run bad = run("eval", "--model", m.toString(), "--task", "arc");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("expected NAME=FORMAT:FILE");
        Run none = run("eval", "--model", m.toString());
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).contains("give --data (perplexity), --task (multiple choice), or both");
    }

    @Test
    void pruneWritesAHuggingFaceModelAndReport() throws Exception {
        Path m = dir.resolve("m");
        run("tiny-model", "--arch", "llama", "--out", m.toString(), "--layers", "3", "--seed", "9");
        Path data = dir.resolve("calib.jsonl");
        Files.writeString(data, "{\"text\": \"calibration text for a tiny model, long enough for two chunks of sixteen tokens\"}\n");
        Path out = dir.resolve("pruned");
        Run r = run("prune", "--model", m.toString(), "--data", data.toString(), "--blocks", "2", "--seq-len", "16",
                "--samples", "1", "--batch-size", "1", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode summary = JsonMapper.builder().build().readTree(r.out());
        assertThat(summary.get("removedBlocks").size()).isEqualTo(2);
        ApiSchemasTest.assertMatchesResultSchema(new PruningJobType("cpu"), summary);
        assertThat(Files.exists(out.resolve("model/config.json"))).isTrue();
        assertThat(Files.readString(out.resolve("report/report.json"))).contains("blockpruner");
        Run bad = run("prune", "--model", m.toString(), "--data", data.toString(), "--blocks", "9", "--method", "nope",
                "--out", dir.resolve("x").toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("nope");
        Run help = run("prune", "--help");
        assertThat(help.out()).as("the help lists every registered method")
                .contains(dev.amalgam.pruning.PruneMethods.all().stream().map(dev.amalgam.pruning.PruneMethod::specName).toList());
    }

    @Test
    void fuseTrainsTheTargetOnPreferenceData() throws Exception {
        Path m = dir.resolve("target");
        run("tiny-model", "--arch", "qwen2", "--out", m.toString(), "--seed", "4");
        Path data = dir.resolve("prefs.jsonl");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            lines.append("{\"prompt\": \"say ").append(i).append("\", \"chosen\": [\"").append(i).append(" indeed\", \"")
                    .append(i).append("\"], \"rejected\": [\"no\"]}\n");
        }
        Files.writeString(data, lines);
        Path spec = dir.resolve("spec.json");
        Files.writeString(spec, "{\"maxLength\": 32, \"maxPromptLength\": 16, \"gradAccum\": 1, \"outputDtype\": \"fp32\"}");
        Path out = dir.resolve("fused");
        Run r = run("fuse", "--target", m.toString(), "--data", data.toString(), "--out", out.toString(), "--spec", spec.toString(),
                "--stages", "wrpo", "--lr", "0.001", "--batch-size", "2", "--device", "cpu");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode summary = JsonMapper.builder().build().readTree(r.out());
        assertThat(summary.get("stepsByStage").get("wrpo").asLong()).isEqualTo(2);
        ApiSchemasTest.assertMatchesResultSchema(new FusionJobType(), summary);
        try (HfModelDir trained = HfModelDir.open(Path.of(summary.get("model").asString()))) {
            assertThat(trained.dominantDtype().safetensorsName()).isEqualTo("F32");
        }
        Run bad = run("fuse", "--target", m.toString(), "--data", data.toString(), "--out", dir.resolve("y").toString(), "--loss", "kto");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("kto");
        assertThat(run("fuse", "--help").out()).as("the help lists every loss").contains("dpo_multi", "simpo", "ipo");

        // a dataset directory as a hub snapshot lays it out: --split picks the split trained on
        Path hub = Files.createDirectories(dir.resolve("hub/data"));
        Files.writeString(hub.resolve("train-00000-of-00001.jsonl"), lines);
        Files.writeString(hub.resolve("test-00000-of-00001.jsonl"), lines.substring(0, lines.indexOf("\n", lines.indexOf("\n") + 1) + 1));
        Run split = run("fuse", "--target", m.toString(), "--data", dir.resolve("hub").toString(), "--split", "test",
                "--out", dir.resolve("fused-test").toString(), "--spec", spec.toString(), "--stages", "wrpo", "--lr", "0.001",
                "--batch-size", "2", "--device", "cpu");
        assertThat(split.code()).as(split.err()).isZero();
        assertThat(JsonMapper.builder().build().readTree(split.out()).get("stepsByStage").get("wrpo").asLong())
                .as("the test split's 2 records, one batch").isEqualTo(1);
        Run missing = run("fuse", "--target", m.toString(), "--data", dir.resolve("hub").toString(), "--split", "validation",
                "--out", dir.resolve("z").toString(), "--spec", spec.toString(), "--device", "cpu");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("no split 'validation'").contains("[test, train]");
    }

    @Test
    void representWritesTheDatasetTheLibraryWritesAndImportsLogProbs() throws Exception {
        Path m = dir.resolve("m");
        run("tiny-model", "--arch", "qwen2", "--out", m.toString(), "--seed", "6");
        Path corpus = dir.resolve("chats.jsonl");
        Files.writeString(corpus, """
                {"id": "x", "conversations": [{"from": "human", "value": "name a colour"}, {"from": "gpt", "value": "teal"}]}
                {"messages": [{"role": "user", "content": "and a number?"}, {"role": "assistant", "content": "seven"}]}
                """);
        Path out = dir.resolve("repr");
        Run r = run("represent", "--model", m.toString(), "--corpus", corpus.toString(), "--top-k", "3",
                "--max-length", "32", "--batch-size", "2", "--device", "cpu", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).as("progress on stderr").contains("representing").contains("100%");
        JsonNode summary = JsonMapper.builder().build().readTree(r.out());
        ApiSchemasTest.assertMatchesResultSchema(new RepresentationJobType(), summary);
        assertThat(summary.get("dataset").asString()).isEqualTo(out.toAbsolutePath().toString());
        assertThat(summary.get("samples").asLong()).isEqualTo(2);
        assertThat(summary.get("source").asString()).isEqualTo("engine");
        // the same job as the library's own run on the same files: byte for byte
        Path direct = dir.resolve("direct");
        ModelRepresentations.run(m, m, corpus, direct, new RepresentationSettings(3, 32, 2),
                dev.amalgam.modelengine.EngineOptions.cpu(), dev.amalgam.job.Progress.NONE);
        for (String file : new String[] {RepresentationFormat.TOPK, RepresentationFormat.INDEX}) {
            assertThat(Files.readAllBytes(out.resolve(file))).as(file).isEqualTo(Files.readAllBytes(direct.resolve(file)));
        }
        try (RepresentationReader reader = RepresentationReader.open(out)) {
            assertThat(reader.k()).isEqualTo(3);
            assertThat(reader.readAll()).extracting(SampleRepresentation::id).containsExactly("x", "1");
        }

        // the importer: ids instead of token strings, the first position predicts the second token
        Path logprobs = dir.resolve("logprobs.jsonl");
        Files.writeString(logprobs, "{\"id\": \"v\", \"input_ids\": [5, 6, 7], \"prompt_logprobs\": [null, "
                + "[[6, -0.5], [9, -1.5]], [[7, -0.25], [5, -2.0], [8, -3.0]]]}\n");
        Path imported = dir.resolve("imported");
        Run i = run("represent", "--model", m.toString(), "--import", logprobs.toString(), "--top-k", "2",
                "--out", imported.toString());
        assertThat(i.code()).as(i.err()).isZero();
        JsonNode importSummary = JsonMapper.builder().build().readTree(i.out());
        ApiSchemasTest.assertMatchesResultSchema(new RepresentationJobType(), importSummary);
        assertThat(importSummary.get("source").asString()).isEqualTo("import");
        assertThat(importSummary.get("meanMetricCe").asDouble()).isEqualTo((0.5 + 0.25) / 2);
        try (RepresentationReader reader = RepresentationReader.open(imported)) {
            SampleRepresentation v = reader.readAll().get(0);
            assertThat(v.topK(0).ids()).containsExactly(6, 9);
            assertThat(v.topK(1).ids()).containsExactly(7, 5);
            assertThat(v.topK(2).size()).isZero();
        }

        Run both = run("represent", "--model", m.toString(), "--corpus", corpus.toString(), "--import",
                logprobs.toString(), "--out", dir.resolve("both").toString());
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
        Run engineOnly = run("represent", "--model", m.toString(), "--import", logprobs.toString(), "--max-length", "16",
                "--chat-template-from", m.toString(), "--out", dir.resolve("bad").toString());
        assertThat(engineOnly.code()).isEqualTo(2);
        assertThat(engineOnly.err()).contains("maxLength: only used with 'corpus'")
                .contains("chatTemplateFrom: only used with 'corpus'");
        assertThat(Files.exists(dir.resolve("bad"))).isFalse();
    }

    @Test
    void tinyModelRefusesToWriteIntoANonEmptyDirectory() throws Exception {
        Path taken = java.nio.file.Files.createDirectories(dir.resolve("taken"));
        java.nio.file.Files.writeString(taken.resolve("notes.txt"), "mine");
        Run r = run("tiny-model", "--arch", "llama", "--out", taken.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("is not empty");
        assertThat(java.nio.file.Files.list(taken).count()).as("nothing written").isEqualTo(1);
    }

    @Test
    void tinyModelWithTokenizerBpeHasTheSameWeightsAndSizeButAnotherVocabulary() throws Exception {
        Path bytes = dir.resolve("bytes");
        Path bpe = dir.resolve("bpe");
        assertThat(run("tiny-model", "--arch", "llama", "--out", bytes.toString(), "--seed", "7").code()).isZero();
        Run r = run("tiny-model", "--arch", "llama", "--tokenizer", "bpe", "--out", bpe.toString(), "--seed", "7");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.readAllBytes(bpe.resolve("model.safetensors"))).isEqualTo(Files.readAllBytes(bytes.resolve("model.safetensors")));
        assertThat(Files.readString(bpe.resolve("config.json"))).isEqualTo(Files.readString(bytes.resolve("config.json")));
        JsonMapper mapper = JsonMapper.builder().build();
        JsonNode bpeModel = mapper.readTree(bpe.resolve("tokenizer.json").toFile()).path("model");
        JsonNode bytesModel = mapper.readTree(bytes.resolve("tokenizer.json").toFile()).path("model");
        assertThat(bpeModel.path("merges")).hasSize(13);
        assertThat(bytesModel.path("merges")).isEmpty();
        assertThat(bpeModel.path("vocab").size()).isEqualTo(bytesModel.path("vocab").size());
        assertThat(bpeModel.path("vocab").path("\u0120the").asInt()).isEqualTo(0xF5);
        assertThat(bytesModel.path("vocab").has("\u0120the")).isFalse();

        Run bad = run("tiny-model", "--arch", "llama", "--tokenizer", "wordpiece", "--out", dir.resolve("wp").toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("unknown tokenizer 'wordpiece': bytes or bpe");
    }

    @Test
    void unknownOptionsAndArchitecturesAreClearErrors() {
        Run gpt2 = run("tiny-model", "--arch", "gpt2", "--out", dir.resolve("x").toString());
        assertThat(gpt2.code()).isEqualTo(2);
        assertThat(gpt2.err()).contains("unsupported architecture 'gpt2'").doesNotContain("Exception").doesNotContain("\tat ");
        Run r = run("merge", "a.yml", "out", "--no-such-option");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("Unknown option");
    }
}
