package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.eval.Perplexity;
import dev.amalgam.modelengine.judge.ChatClient;
import dev.amalgam.modelengine.judge.JudgeTask;
import dev.amalgam.modelengine.judge.MtBench;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.Json;
import dev.amalgam.pruningservice.ComparisonJobType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** {@code amalgam compare}: perplexity and MT-Bench judgments of two models tabled in OUT/report.md and report.json. */
class CompareCommandTest {

    @TempDir
    Path dir;

    @Test
    void compareWritesTheTableOfPerplexityAndJudgments() throws Exception {
        Path a = TinyModels.write(Architecture.LLAMA, dir.resolve("dense"), TinySizes.defaults(), 11);
        Path b = TinyModels.write(Architecture.LLAMA, dir.resolve("pruned"), TinySizes.defaults(), 12);
        Path text = dir.resolve("wiki.jsonl");
        Files.writeString(text, "{\"text\": \"The quick brown fox jumps over the lazy dog, again and again.\"}\n");
        List<MtBench.Question> questions = List.of(new MtBench.Question("1", "writing", List.of("Write.", "Again."), null));
        writeJudgments(dir.resolve("dense-judged.jsonl"), MtBench.tasks(questions,
                Map.of("1", new MtBench.Answer("1", "dense", List.of("x", "y"))), Map.of()), "[[7]]", "[[4]]");
        writeJudgments(dir.resolve("pruned-judged.jsonl"), MtBench.tasks(questions,
                Map.of("1", new MtBench.Answer("1", "pruned", List.of("x", "y"))), Map.of()), "[[6]]", "[[6]]");
        Path out = dir.resolve("report");

        CliCommandsTest.Run r = CliCommandsTest.run("compare", "--model", a.toString(), "--model", b.toString(),
                "--data", text.toString(), "--seq-len", "8",
                "--judgment", a + "=mt_bench:" + dir.resolve("dense-judged.jsonl"),
                "--judgment", b + "=mt_bench:" + dir.resolve("pruned-judged.jsonl"), "--out", out.toString());

        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = Json.MAPPER.readTree(r.out());
        ApiSchemasTest.assertMatchesResultSchema(new ComparisonJobType(EngineOptions.cpu()), json);
        double pplA = Perplexity.evaluate(a, text, 8, EngineOptions.cpu()).perplexity();
        double pplB = Perplexity.evaluate(b, text, 8, EngineOptions.cpu()).perplexity();
        String md = "| Model | PPL | MT-Bench |\n| --- | --- | --- |\n"
                + String.format(Locale.ROOT, "| dense | %.2f | %.2f |%n", pplA, (7 + 4) / 2.0)
                + String.format(Locale.ROOT, "| pruned | %.2f | %.2f |%n", pplB, 6.0);
        assertThat(Files.readString(out.resolve("report.md"))).isEqualTo(md);
        assertThat(json.get("markdown").asString()).isEqualTo(md);
        JsonNode report = Json.MAPPER.readTree(Files.readString(out.resolve("report.json")));
        assertThat(report.get("rows")).isEqualTo(json.get("rows"));
        assertThat(report.get("rows").get(0).get("perplexity").asDouble()).isEqualTo(pplA);
    }

    @Test
    void aMalformedJudgmentIsAUsageError() {
        CliCommandsTest.Run r = CliCommandsTest.run("compare", "--model", "m", "--judgment", "m-mt_bench", "--out",
                dir.resolve("o").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--judgment 'm-mt_bench': expected MODEL=BENCHMARK:FILE");
    }

    static void writeJudgments(Path file, List<JudgeTask> tasks, String... answers) throws Exception {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < tasks.size(); i++) {
            s.append(tasks.get(i).record(new ChatClient.Response(answers[i], List.of()))).append('\n');
        }
        Files.writeString(file, s.toString());
    }
}
