package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.fusionservice.FusionJobType;
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
                """.formatted(a));
        Path out = dir.resolve("out");
        Run r = run("merge", config.toString(), out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("100%");
        JsonNode summary = JsonMapper.builder().build().readTree(r.out());
        assertThat(summary.get("method").asString()).isEqualTo("linear");
        ApiSchemasTest.assertMatchesResultSchema(new MergeJobType(), summary);
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
    void unknownOptionsAndArchitecturesAreClearErrors() {
        Run gpt2 = run("tiny-model", "--arch", "gpt2", "--out", dir.resolve("x").toString());
        assertThat(gpt2.code()).isEqualTo(2);
        assertThat(gpt2.err()).contains("unsupported architecture 'gpt2'").doesNotContain("Exception").doesNotContain("\tat ");
        Run r = run("merge", "a.yml", "out", "--no-such-option");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("Unknown option");
    }
}
