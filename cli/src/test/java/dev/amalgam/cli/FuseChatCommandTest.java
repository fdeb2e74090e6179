package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.fusion.fusechat.repr.ModelRepresentations;
import dev.amalgam.fusion.fusechat.repr.RepresentationSettings;
import dev.amalgam.fusionservice.FusionJobType;
import dev.amalgam.job.Progress;
import dev.amalgam.modelengine.EngineOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code amalgam fuse --method fusechat}: FuseChat stage 1 on local representation datasets. */
class FuseChatCommandTest {

    @TempDir
    Path dir;

    @Test
    void fuseWithMethodFuseChatTrainsThePivotOnTheRepresentations() throws Exception {
        Path pivot = dir.resolve("pivot");
        Path source = dir.resolve("source");
        CliCommandsTest.run("tiny-model", "--arch", "llama", "--out", pivot.toString(), "--seed", "4");
        CliCommandsTest.run("tiny-model", "--arch", "llama", "--out", source.toString(), "--seed", "5");
        Path corpus = dir.resolve("chat.jsonl");
        Files.writeString(corpus, """
                {"id": "a", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello there"}]}
                {"id": "b", "conversations": [{"from": "human", "value": "1+1?"}, {"from": "gpt", "value": "2"}]}
                """);
        RepresentationSettings s = new RepresentationSettings(4, 64, 2);
        ModelRepresentations.run(pivot, pivot, corpus, dir.resolve("pr"), s, EngineOptions.cpu(), Progress.NONE);
        ModelRepresentations.run(source, pivot, corpus, dir.resolve("sr"), s, EngineOptions.cpu(), Progress.NONE);
        Path spec = dir.resolve("spec.json");
        Files.writeString(spec, "{\"maxLength\": 64, \"gradAccum\": 1, \"epochs\": 1, \"outputDtype\": \"fp32\"}");
        CliCommandsTest.Run r = CliCommandsTest.run("fuse", "--method", "fusechat", "--target", pivot.toString(),
                "--source", source.toString(), "--pivot-representations", dir.resolve("pr").toString(),
                "--source-representations", dir.resolve("sr").toString(), "--out", dir.resolve("out").toString(),
                "--spec", spec.toString(), "--lr", "0.001", "--batch-size", "2", "--lambda", "0.5", "--device", "cpu");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode summary = JsonMapper.builder().build().readTree(r.out());
        assertThat(summary.get("stepsByStage").get("fusechat").asLong()).isEqualTo(1);
        ApiSchemasTest.assertMatchesResultSchema(new FusionJobType(), summary);
        CliCommandsTest.Run bad = CliCommandsTest.run("fuse", "--method", "fusechat", "--target", pivot.toString(),
                "--out", dir.resolve("bad").toString(), "--lambda", "2");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("source").contains("lambda: must be in [0, 1]");
    }
}
