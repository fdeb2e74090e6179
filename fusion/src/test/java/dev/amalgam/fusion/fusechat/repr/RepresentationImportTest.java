package dev.amalgam.fusion.fusechat.repr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.job.Progress;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** prompt_logprobs JSONL into the binary format: shifted by one, top-k by log-prob, metric_ce by hand. */
class RepresentationImportTest {

    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void tokenizer() {
        model = TinyModels.write(Architecture.LLAMA, tmp.resolve("m"), TinySizes.defaults(), 1);
    }

    @Test
    void entryIPredictsTokenIAndIsStoredAtPositionIMinusOne() throws Exception {
        // tiny byte-level vocabulary: "a" = 97, "b" = 98, "c" = 99, "<s>" = 256
        Path in = tmp.resolve("lp.jsonl");
        Files.writeString(in, """
                {"id": "s", "tokens": ["<s>", "a", "b"], "labels": [-100, -100, 98], "prompt_logprobs": [null, [["a", -0.5], ["c", -1.5], [98, -2.0]], [["c", -0.25], ["b", -3.0], ["a", -0.25]]]}
                """);
        Path out = tmp.resolve("imported");
        RepresentationSummary s = RepresentationImport.convert(in, model, 2, out, Progress.NONE);
        assertThat(s.samples()).isEqualTo(1);
        List<SampleRepresentation> back;
        try (RepresentationReader r = RepresentationReader.open(out)) {
            assertThat(r.meta().path("source").asString()).isEqualTo("import");
            back = r.readAll();
        }
        SampleRepresentation rep = back.get(0);
        assertThat(rep.inputIds()).containsExactly(256, 97, 98);
        assertThat(rep.topK(0).ids()).containsExactly(97, 99);
        assertThat(rep.topK(0).logits()).containsExactly(-0.5f, -1.5f);
        assertThat(rep.topK(1).ids()).as("equal log-probs: the lower id first").containsExactly(97, 99);
        assertThat(rep.topK(2).size()).as("nothing predicts past the last token").isZero();
        assertThat(rep.metricCe()).as("only token 2 (b, -3.0) is learned").isCloseTo(3.0, within(1e-9));
    }

    @Test
    void aLearnedPositionWithoutItsOwnTokensLogProbFailsWithLineAndPosition() throws Exception {
        Path in = tmp.resolve("bad.jsonl");
        Files.writeString(in, """
                {"id": "ok", "tokens": ["a", "b"], "prompt_logprobs": [null, [["b", -0.1]]]}
                {"id": "x", "tokens": ["a", "b"], "prompt_logprobs": [null, [["c", -0.1]]]}
                """);
        assertThatThrownBy(() -> RepresentationImport.convert(in, model, 2, tmp.resolve("bad-out"), Progress.NONE))
                .hasMessageContaining("line 2").hasMessageContaining("prompt_logprobs[1]")
                .hasMessageContaining("lacks the log-prob of the token itself");
        Path unknown = tmp.resolve("unknown.jsonl");
        Files.writeString(unknown, "{\"tokens\": [\"a\", \"zz-not-a-token\"], \"prompt_logprobs\": [null, [[\"a\", -1]]]}\n");
        assertThatThrownBy(() -> RepresentationImport.convert(unknown, model, 2, tmp.resolve("u-out"), Progress.NONE))
                .hasMessageContaining("line 1").hasMessageContaining("tokens[1]").hasMessageContaining("not a token");
    }
}
