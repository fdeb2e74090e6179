package dev.amalgam.fusion.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.fusion.data.Split;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreferenceDataBuilderTest {

    @TempDir
    Path dir;

    @Test
    void givenScoresPickBestAndWorstAndSplitAThirdForSft() throws Exception {
        Path in = dir.resolve("candidates.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            sb.append("""
                    {"prompt": "p%d", "source_responses": [{"text": "s%d-lo", "score": 0.1}, {"text": "s%d-hi", "score": 2.5}, {"text": "s%d-mid", "score": 1}], "target_responses": [{"text": "t%d-mid", "score": 0}, {"text": "t%d-worst", "score": -3}, {"text": "t%d-best", "score": 4}]}
                    """.formatted(i, i, i, i, i, i, i));
        }
        Files.writeString(in, sb.toString());
        Path out = dir.resolve("wrpo.jsonl");
        int written = PreferenceDataBuilder.buildFile(in, null, null, out, new BuildSettings(1.0 / 3, 3, 16, 0.8, 0.95,
                7), EngineOptions.cpu());
        List<PreferenceRecord> records = PreferenceJsonl.readAll(out);
        assertThat(written).isEqualTo(6);
        assertThat(records).hasSize(6);
        assertThat(records.subList(0, 2)).allMatch(r -> r.split() == Split.SFT && r.chosen().size() == 1);
        assertThat(records.subList(2, 6)).allMatch(r -> r.split() == Split.PREFERENCE);
        Set<String> prompts = new HashSet<>();
        for (PreferenceRecord r : records) {
            String id = r.prompt().get(0).content().substring(1);
            prompts.add(id);
            assertThat(r.sourceChosen()).isEqualTo("s" + id + "-hi");
            if (r.split() == Split.PREFERENCE) {
                assertThat(r.targetChosen()).isEqualTo("t" + id + "-best");
                assertThat(r.rejectedResponse()).isEqualTo("t" + id + "-worst");
            }
        }
        assertThat(prompts).hasSize(6); // each prompt once, in one split only
    }

    @Test
    void rewardModelScoresAndOnPolicySamplesOfTheTarget() {
        Path targetDir = TinyData.llama(dir.resolve("target"), 4);
        Path rmDir = TinyModels.writeRewardModel(Architecture.LLAMA, dir.resolve("rm"),
                new TinySizes(32, 64, 2, 4, 2, 256, DType.F32), 5);
        List<PromptCandidates> prompts = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            prompts.add(new PromptCandidates(List.of(ChatMessage.user("hello " + i)),
                    List.of(new Candidate("alpha", null), new Candidate("beta beta", null), new Candidate("c", null)),
                    List.of()));
        }
        BuildSettings settings = new BuildSettings(0, 4, 4, 1.0, 1.0, 11);
        try (ResponseScorer rm = ResponseScorer.rewardModel(rmDir, EngineOptions.cpu());
                LlamaModel target = CheckpointLoader.load(targetDir, EngineOptions.cpu());
                TextTokenizer tok = TextTokenizer.load(targetDir)) {
            List<PreferenceRecord> records = PreferenceDataBuilder.build(prompts, rm, target, tok, settings);
            List<PreferenceRecord> again = PreferenceDataBuilder.build(prompts, rm, target, tok, settings);
            assertThat(again).isEqualTo(records); // seeded sampling and scoring are deterministic
            assertThat(records).hasSize(2).allMatch(r -> r.split() == Split.PREFERENCE);
            for (PreferenceRecord r : records) {
                int index = Integer.parseInt(r.prompt().get(0).content().substring("hello ".length()));
                // Independent check: re-score the source candidates; the chosen one has the highest reward.
                double[] s = rm.score(r.prompt(), List.of("alpha", "beta beta", "c"));
                assertThat(r.sourceChosen()).isEqualTo(List.of("alpha", "beta beta", "c").get(argmax(s)));
                // The target samples are what the engine's generation gives with the prompt's seed.
                List<String> samples = PreferenceDataBuilder.sample(prompts.get(index), target, tok, settings, index)
                        .stream().map(Candidate::text).toList();
                assertThat(samples).hasSize(4).contains(r.targetChosen(), r.rejectedResponse());
                double[] t = rm.score(r.prompt(), samples);
                assertThat(r.targetChosen()).isEqualTo(samples.get(argmax(t)));
                assertThat(r.rejectedResponse()).isEqualTo(samples.get(argmin(t)));
            }
        }
    }

    @Test
    void unscoredCandidatesWithoutARewardModelFail() {
        List<PromptCandidates> prompts = List.of(new PromptCandidates(List.of(ChatMessage.user("x")),
                List.of(new Candidate("a", null)), List.of(new Candidate("b", 1.0), new Candidate("c", 0.0))));
        assertThatThrownBy(() -> PreferenceDataBuilder.build(prompts, null, null, null,
                new BuildSettings(0, 2, 4, 0.8, 0.95, 1))).hasMessageContaining("reward model");
    }

    private static int argmax(double[] s) {
        int b = 0;
        for (int i = 1; i < s.length; i++) {
            b = s[i] > s[b] ? i : b;
        }
        return b;
    }

    private static int argmin(double[] s) {
        int b = 0;
        for (int i = 1; i < s.length; i++) {
            b = s[i] < s[b] ? i : b;
        }
        return b;
    }
}
