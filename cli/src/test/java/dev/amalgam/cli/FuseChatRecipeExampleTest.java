package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The FuseChat recipe as one pipeline, exactly as README.md and fusion/README.md tell a user to run it: the committed
 * example files (docs/examples/fusechat), the README's commands run as processes in the demo directory. Then what
 * the method guarantees, checked against the formulas rather than against the code's own numbers: each fusion moved
 * the pivot; every element of the VaRM merge lies between the two targets' values there (its weights are
 * non-negative and sum to 1); every element of the SCE merge lies between the smallest and the largest of pivot and
 * targets (the pivot plus a non-negative, at most normalised, mix of kept deltas); the merged models load in the
 * engine and have a finite perplexity on held-out text.
 */
class FuseChatRecipeExampleTest {

    static final Path EXAMPLE = Path.of("..", "docs", "examples", "fusechat");
    /** The README's commands, run in a directory holding a copy of the example files. */
    static final List<String> COMMANDS = List.of(
            "../amalgam tiny-model --arch llama --out pivot --seed 1",
            "../amalgam tiny-model --arch llama --tokenizer bpe --out source-1 --seed 2",
            "../amalgam tiny-model --arch llama --out source-2 --seed 3",
            "../amalgam pipeline fusechat.yml out");

    @TempDir
    Path dir;

    @Test
    void theReadmesFuseChatPipelineRunsAndItsMergesStayWithinTheirTargets() throws Exception {
        for (Path readme : List.of(Path.of("..", "README.md"), Path.of("..", "fusion", "README.md"))) {
            String text = Files.readString(readme);
            assertThat(text).as(readme + " copies the example").contains("cp ../docs/examples/fusechat/* .");
            COMMANDS.forEach(c -> assertThat(text).as(readme.toString()).contains(c));
        }
        Path demo = Files.createDirectories(dir.resolve("fusechat-demo"));
        try (var files = Files.list(EXAMPLE)) {
            for (Path f : files.toList()) {
                Files.copy(f, demo.resolve(f.getFileName()));
            }
        }
        String summaryText = null;
        for (String command : COMMANDS) {
            summaryText = run(demo, command);
        }
        JsonNode steps = JsonMapper.builder().build().readTree(summaryText).path("steps");
        assertThat(steps.propertyNames()).containsExactlyInAnyOrder("repr-pivot", "repr-s1", "repr-s2", "fuse-s1",
                "fuse-s2", "merge-varm", "merge-sce", "eval-pivot", "eval-varm", "eval-sce");
        for (String eval : List.of("eval-pivot", "eval-varm", "eval-sce")) {
            double ppl = steps.path(eval).path("result").path("perplexity").asDouble();
            assertThat(Double.isFinite(ppl) && ppl > 1).as(eval + " perplexity " + ppl).isTrue();
        }

        Path out = demo.resolve("out");
        try (HfModelDir pivot = HfModelDir.open(demo.resolve("pivot"));
             HfModelDir t1 = HfModelDir.open(out.resolve("fuse-s1").resolve("model"));
             HfModelDir t2 = HfModelDir.open(out.resolve("fuse-s2").resolve("model"));
             HfModelDir varm = HfModelDir.open(out.resolve("merge-varm"));
             HfModelDir sce = HfModelDir.open(out.resolve("merge-sce"))) {
            assertThat(varm.tensorNames()).isEqualTo(pivot.tensorNames()).isEqualTo(t1.tensorNames());
            long moved1 = 0;
            long moved2 = 0;
            long varmMoved = 0;
            for (String name : pivot.tensorNames()) {
                float[] p = pivot.tensor(name).toFloatArray();
                float[] a = t1.tensor(name).toFloatArray();
                float[] b = t2.tensor(name).toFloatArray();
                float[] v = varm.tensor(name).toFloatArray();
                float[] s = sce.tensor(name).toFloatArray();
                for (int i = 0; i < p.length; i++) {
                    moved1 += a[i] != p[i] ? 1 : 0;
                    moved2 += b[i] != p[i] ? 1 : 0;
                    varmMoved += v[i] != p[i] ? 1 : 0;
                    float lo = Math.min(a[i], b[i]);
                    float hi = Math.max(a[i], b[i]);
                    assertThat(v[i]).as("VaRM %s[%d] between the targets %s and %s", name, i, lo, hi)
                            .isBetween(lo - bf16Rounding(lo), hi + bf16Rounding(hi));
                    float slo = Math.min(lo, p[i]);
                    float shi = Math.max(hi, p[i]);
                    assertThat(s[i]).as("SCE %s[%d] between pivot and targets %s and %s", name, i, slo, shi)
                            .isBetween(slo - bf16Rounding(slo), shi + bf16Rounding(shi));
                }
            }
            assertThat(moved1).as("fusion 1 moved the pivot").isPositive();
            assertThat(moved2).as("fusion 2 moved the pivot").isPositive();
            assertThat(varmMoved).as("the VaRM merge is not the pivot").isPositive();
        }
    }

    @Test
    void docsPipelinesShowsTheExampleAsJsonWithArtifactNamesForItsFiles() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "pipelines.md"));
        String section = doc.substring(doc.indexOf("## The FuseChat recipe as a pipeline"));
        String json = section.substring(section.indexOf("```json\n") + 8, section.indexOf("\n```", section.indexOf("```json")));
        String yaml = Files.readString(EXAMPLE.resolve("fusechat.yml"))
                .replace("corpus: chat.jsonl", "corpus: chat").replace("dataset: held-out.jsonl", "dataset: held-out");
        assertThat(JsonMapper.builder().build().readTree(json))
                .isEqualTo(tools.jackson.dataformat.yaml.YAMLMapper.builder().build().readTree(yaml));
    }

    /** Half a BF16 unit in the last place at {@code x}: the most that writing a value as BF16 moves it. */
    static float bf16Rounding(float x) {
        return Math.ulp(Math.abs(x)) * (1 << 15); // BF16 keeps 7 of FP32's 23 fraction bits: ulp * 2^16, halved
    }

    /** One README command, the launcher replaced by this JVM running the CLI; its stdout. */
    static String run(Path workDir, String command) throws Exception {
        List<String> args = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Amalgam.class.getName()));
        List<String> words = List.of(command.split(" "));
        assertThat(words.get(0)).isEqualTo("../amalgam");
        args.addAll(words.subList(1, words.size()));
        Path stdout = Files.createTempFile(workDir.getParent(), "stdout", ".txt");
        Path stderr = Files.createTempFile(workDir.getParent(), "stderr", ".txt");
        Process p = new ProcessBuilder(args).directory(workDir.toFile()).redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile()).start();
        int code = p.waitFor();
        assertThat(code).as(command + ": " + Files.readString(stderr)).isZero();
        return Files.readString(stdout);
    }
}
