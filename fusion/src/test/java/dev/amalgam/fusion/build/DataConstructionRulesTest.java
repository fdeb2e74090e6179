package dev.amalgam.fusion.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/** The reference's drop rule, FuseChat-3.0's pair rule and the sampling defaults. */
class DataConstructionRulesTest {

    @TempDir
    Path dir;

    private static Candidate c(String text, double score) {
        return new Candidate(text, score);
    }

    private static Candidate c(String source, String text, double score) {
        return new Candidate(text, score, source);
    }

    private static PromptCandidates prompt(String p, List<Candidate> sources, List<Candidate> own) {
        return new PromptCandidates(List.of(ChatMessage.user(p)), sources, own, "id-" + p);
    }

    @Test
    void referenceSettingsSampleUpTo4096TokensAndFuseChat3SplitsFourToSix() {
        BuildSettings r = BuildSettings.reference();
        assertThat(r.maxNewTokens()).isEqualTo(4096);
        assertThat(r.targetSamples()).isEqualTo(5);
        assertThat(r.pairRule()).isEqualTo(PairRule.WRPO);
        BuildSettings f = BuildSettings.fuseChat3();
        assertThat(f.sftFraction()).isEqualTo(0.4);
        assertThat(f.pairRule()).isEqualTo(PairRule.FUSECHAT3);
        assertThat(f.minMargin()).isEqualTo(0.01);
        assertThat(f.maxMargin()).isEqualTo(0.1);
        assertThatThrownBy(() -> new BuildSettings(0.4, 5, 16, 0.8, 0.95, 1, PairRule.FUSECHAT3, 0.2, 0.1))
                .hasMessageContaining("maxMargin must be a finite number >= minMargin");
    }

    @Test
    void aPromptIsDroppedWhenItsOwnSamplesAreOneTextNotWhenTheirScoresTie() {
        List<PromptCandidates> prompts = List.of(
                // five identical texts, scores differ: dropped
                prompt("same", List.of(c("s", 1)), List.of(c("x", 1), c("x", 2), c("x", 3), c("x", 4), c("x", 5))),
                // different texts, one score: kept; best and worst are both the first (numpy argmax/argmin)
                prompt("tied", List.of(c("s", 1)), List.of(c("a", 0.5), c("b", 0.5), c("c", 0.5))),
                prompt("plain", List.of(c("s", 1)), List.of(c("lo", -1), c("hi", 3))));
        PreferenceDataBuilder.Completed done = PreferenceDataBuilder.completeCounted(prompts, List.of(0, 1, 2), null,
                null, null, BuildSettings.reference());
        assertThat(done.identicalSamples()).isEqualTo(1);
        assertThat(done.records()).hasSize(2);
        PreferenceRecord tied = done.records().get(0);
        assertThat(tied.targetChosen()).isEqualTo("a");
        assertThat(tied.rejectedResponse()).isEqualTo("a");
        assertThat(tied.promptId()).isEqualTo("id-tied");
        assertThat(done.records().get(1).targetChosen()).isEqualTo("hi");
        assertThat(done.records().get(1).rejectedResponse()).isEqualTo("lo");
    }

    @Test
    void fuseChat3PairsASourcesOwnBestAndWorstWithinTheMarginWindow() {
        List<Candidate> sources = List.of(
                c("gemma", "g1", 0.50), c("gemma", "g2", 0.45), c("gemma", "g3", 0.52), // margin 0.07: in
                c("mistral", "m1", 0.90), c("mistral", "m2", 0.60),                     // margin 0.30: out
                c("qwen", "q1", 0.54), c("qwen", "q2", 0.56));                          // margin 0.02: in, best 0.56
        List<PromptCandidates> prompts = List.of(prompt("p", sources, List.of()),
                prompt("none", List.of(c("a", "a1", 1.0), c("a", "a2", 0.5), c("b", "b1", 0.3), c("b", "b2", 0.3)),
                        List.of()));
        PreferenceDataBuilder.Completed done = PreferenceDataBuilder.completeCounted(prompts, List.of(0, 1), null,
                null, null, BuildSettings.fuseChat3());
        assertThat(done.noPairInMargin()).isEqualTo(1); // a: 0.5 > 0.1, b: 0 < 0.01
        assertThat(done.records()).hasSize(1);
        PreferenceRecord r = done.records().get(0);
        // qwen's pair wins over gemma's (0.56 > 0.52); mistral's best (0.90) is out of the window
        assertThat(r.chosen()).containsExactly("q2");
        assertThat(r.rejected()).containsExactly("q1");
        assertThat(r.sourceChosen()).isEqualTo(r.targetChosen()); // one chosen: DPO data
        // the SFT records of that rule are the best response over all sources
        PreferenceDataBuilder.SplitPrompts split = PreferenceDataBuilder.split(List.of(prompts.get(0)), null,
                new BuildSettings(0.99, 5, 16, 0.8, 0.95, 1, PairRule.FUSECHAT3, 0.01, 0.1));
        assertThat(split.sft().get(0).sourceChosen()).isEqualTo("m1");
        assertThatThrownBy(() -> PreferenceDataBuilder.completeCounted(List.of(prompt("x", List.of(c("u", 1)),
                List.of())), List.of(0), null, null, null, BuildSettings.fuseChat3()))
                .hasMessageContaining("source_responses[0] has no \"source\"");
    }

    @Test
    void candidatesCarryTheirSourcePromptIdAndMessagePrompt() {
        PromptCandidates p = CandidatesJsonl.parse(JsonMapper.builder().build().readTree("""
                {"prompt_id": 7, "prompt": {"role": "user", "content": "hi"},
                 "source_responses": [{"text": "a", "score": 0.3, "source": "gemma"}, "b"]}"""));
        assertThat(p.promptId()).isEqualTo("7");
        assertThat(p.prompt()).containsExactly(ChatMessage.user("hi"));
        assertThat(p.sourceResponses().get(0).source()).isEqualTo("gemma");
        assertThat(p.sourceResponses().get(1).source()).isNull();
        assertThatThrownBy(() -> CandidatesJsonl.parse(JsonMapper.builder().build().readTree(
                "{\"prompt\": \"q\", \"source_responses\": [{\"text\": \"a\", \"source\": 3}]}")))
                .hasMessageContaining("\"source_responses\"[0].source must be a string");
    }

    @Test
    void onPolicySamplesStopAtTheModelsContextInsteadOfFailing() {
        Path target = TinyData.llama(dir.resolve("t"), 5);
        try (LlamaModel model = CheckpointLoader.load(target, EngineOptions.cpu());
                TextTokenizer tok = TextTokenizer.load(target)) {
            int positions = model.config().maxPositionEmbeddings();
            List<ChatMessage> prompt = List.of(ChatMessage.user("hello"));
            int promptTokens = tok.encodeChat(prompt, true).length;
            BuildSettings s = new BuildSettings(0, 2, 4096, 1.0, 1.0, 3);
            List<Candidate> samples = PreferenceDataBuilder.sampleResponses(model, tok, prompt, 2, s.sampling(0));
            assertThat(samples).hasSize(2);
            for (Candidate c : samples) {
                // byte-level tokenizer: a sampled token decodes to at most one character (invalid bytes to U+FFFD
                // each), so the characters bound the tokens sampled; uncapped, 4096 would be sampled
                assertThat(c.text().codePointCount(0, c.text().length())).isLessThanOrEqualTo(positions - promptTokens);
            }
        }
    }
}
