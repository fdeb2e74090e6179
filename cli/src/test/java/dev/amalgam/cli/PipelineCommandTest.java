package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code amalgam pipeline}: a pipeline spec and mergekit's multi-stage YAML run locally, step by step, into OUT/STEP,
 * with the outputs that running the same commands one after the other gives; a second run resumes after the
 * finished steps; every problem is reported before any work.
 */
class PipelineCommandTest {

    static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    @BeforeEach
    void models() throws IOException {
        TinySizes tiny = new TinySizes(64, 128, 8, 4, 2, 256, DType.BF16);
        TinyModels.write(Architecture.LLAMA, dir.resolve("a"), tiny, 2);
        TinyModels.write(Architecture.LLAMA, dir.resolve("b"), tiny, 3);
        TinyModels.write(Architecture.LLAMA, dir.resolve("c"), tiny, 4);
        CrashRecoveryTest.writeCalibration(dir.resolve("calib.jsonl"), 4);
    }

    static String linear(String x, String y) {
        return "merge_method: linear\nmodels:\n  - model: " + x + "\n    parameters: {weight: 0.25}\n  - model: " + y
                + "\n    parameters: {weight: 0.75}\ndtype: bfloat16\n";
    }

    @Test
    void mergekitMultiStageYamlGivesTheModelOfItsMergesRunOneAfterTheOther() throws Exception {
        // the final (unnamed) document comes first and merges the stage written after it, as mergekit allows
        Path multi = dir.resolve("multi.yml");
        Files.writeString(multi, linear("stage1", dir.resolve("c").toString()) + "---\nname: stage1\n"
                + linear(dir.resolve("a").toString(), dir.resolve("b").toString()));
        Path out = dir.resolve("out");
        CliCommandsTest.Run run = CliCommandsTest.run("pipeline", multi.toString(), out.toString());
        assertThat(run.code()).as(run.err()).isZero();
        JsonNode summary = JSON.readTree(run.out());
        assertThat(summary.path("steps").propertyNames()).containsExactly("stage1", "final");

        // by hand: mergekit-yaml on each document, the second naming the first one's output directory
        Path s1 = dir.resolve("s1.yml");
        Files.writeString(s1, linear(dir.resolve("a").toString(), dir.resolve("b").toString()));
        assertThat(CliCommandsTest.run("merge", s1.toString(), dir.resolve("hand1").toString()).code()).isZero();
        Path fin = dir.resolve("final.yml");
        Files.writeString(fin, linear(dir.resolve("hand1").toString(), dir.resolve("c").toString()));
        assertThat(CliCommandsTest.run("merge", fin.toString(), dir.resolve("hand2").toString()).code()).isZero();
        assertThat(weights(out.resolve("stage1"))).isEqualTo(weights(dir.resolve("hand1")));
        assertThat(weights(out.resolve("final"))).isEqualTo(weights(dir.resolve("hand2")));

        // again: both steps are done, nothing runs, the same summary comes out
        CliCommandsTest.Run again = CliCommandsTest.run("pipeline", multi.toString(), out.toString());
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.err()).contains("step stage1: done in an earlier run").contains("step final: done in an earlier run");
        assertThat(JSON.readTree(again.out())).isEqualTo(summary);
    }

    @Test
    void aPipelineSpecRunsAMergeThenAnEvaluationOfIt() throws Exception {
        Path spec = dir.resolve("pipeline.yml");
        Files.writeString(spec, """
                steps:
                  - name: evaluate
                    type: evaluate
                    spec: {model: "${steps.merge.outputs.model}", dataset: "%s", seqLen: 32}
                  - name: merge
                    type: merge
                    spec:
                      output: merged
                      configYaml: |
                        %s
                """.formatted(dir.resolve("calib.jsonl"), linear(dir.resolve("a").toString(), dir.resolve("b").toString())
                .replace("\n", "\n        ")));
        Path out = dir.resolve("out");
        CliCommandsTest.Run run = CliCommandsTest.run("pipeline", spec.toString(), out.toString());
        assertThat(run.code()).as(run.err()).isZero();
        JsonNode steps = JSON.readTree(run.out()).path("steps");
        assertThat(steps.path("merge").path("outputs").get(0).path("path").asString()).isEqualTo(out.resolve("merge").toAbsolutePath().toString());
        // the evaluation read the merged model: the same as evaluating that directory by hand
        Path evalSpec = dir.resolve("eval.yml");
        Files.writeString(evalSpec, "steps:\n  - {name: e, type: evaluate, spec: {model: \"" + out.resolve("merge")
                + "\", dataset: \"" + dir.resolve("calib.jsonl") + "\", seqLen: 32}}\n");
        CliCommandsTest.Run byHand = CliCommandsTest.run("pipeline", evalSpec.toString(), dir.resolve("out2").toString());
        assertThat(byHand.code()).as(byHand.err()).isZero();
        assertThat(JSON.readTree(byHand.out()).path("steps").path("e").path("result").path("perplexity"))
                .isEqualTo(steps.path("evaluate").path("result").path("perplexity"));
        assertThat(steps.path("evaluate").path("result").path("perplexity").asDouble()).isGreaterThan(1.0);
    }

    @Test
    void everyProblemIsReportedBeforeAnyStepRuns() throws Exception {
        Path spec = dir.resolve("bad.json");
        Files.writeString(spec, """
                {"steps": [
                  {"name": "merge", "type": "merge", "spec": {"configYaml": "%s"}},
                  {"name": "eval", "type": "evaluate", "spec": {"model": "${steps.merge.outputs.model}", "dataset": "missing.jsonl"}}
                ]}""".formatted(linear(dir.resolve("a").toString(), dir.resolve("b").toString()).replace("\n", "\\n")));
        Path out = dir.resolve("out");
        CliCommandsTest.Run run = CliCommandsTest.run("pipeline", spec.toString(), out.toString());
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("steps[0].spec.output: the name of the merged MODEL artifact is required")
                .contains("steps[1].spec.dataset: missing.jsonl is not a file");
        assertThat(out).as("nothing ran").doesNotExist();
    }

    /** sha256 of every weight file of a model directory. */
    static Map<String, String> weights(Path model) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).toList()) {
                out.put(f.getFileName().toString(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
            }
        }
        assertThat(out).isNotEmpty();
        return out;
    }
}
