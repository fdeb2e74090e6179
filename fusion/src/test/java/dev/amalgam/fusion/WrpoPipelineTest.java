package dev.amalgam.fusion;

import dev.amalgam.job.Progress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.fusion.build.BuildSettings;
import dev.amalgam.fusion.build.CandidatesJsonl;
import dev.amalgam.fusion.build.PreferenceDataBuilder;
import dev.amalgam.fusion.build.PromptCandidates;
import dev.amalgam.fusion.build.ResponseScorer;
import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.fusion.data.Split;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reference method end to end: split, SFT, on-policy sampling of the SFT model, WRPO. */
class WrpoPipelineTest {

    @TempDir
    Path dir;

    @Test
    void sftModelSamplesThePreferenceDataAndIsTheReference() throws Exception {
        Path target = TinyData.llama(dir.resolve("target"), 12);
        Path rm = TinyModels.writeRewardModel(Architecture.LLAMA, dir.resolve("rm"),
                new TinySizes(32, 64, 2, 4, 2, 256, DType.F32), 13);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            lines.append("{\"prompt\": \"question ").append(i)
                    .append("\", \"source_responses\": [\"abc abc\", \"bad\", \"cab cab cab\"]}\n");
        }
        Path candidates = dir.resolve("candidates.jsonl");
        Files.writeString(candidates, lines.toString());
        BuildSettings build = new BuildSettings(1.0 / 3, 3, 5, 1.0, 1.0, 3);
        FusionSpec spec = FusionRunnerTest.spec(", \"stages\": \"sft,wrpo\", \"sftLr\": 0.01, \"epochs\": 1,"
                + " \"batchSize\": 2, \"maxLength\": 48, \"evalEvery\": 0");
        FusionRunnerTest.Recorder rec = new FusionRunnerTest.Recorder();
        Path work = dir.resolve("work");
        FusionResult r = WrpoPipeline.run(spec, candidates, rm, target, null, build, work, dir.resolve("out"), rec);

        List<PreferenceRecord> sft = PreferenceJsonl.readAll(work.resolve("data/sft.jsonl"));
        List<PreferenceRecord> preference = PreferenceJsonl.readAll(work.resolve("data/preference.jsonl"));
        assertThat(sft).hasSize(2).allMatch(x -> x.split() == Split.SFT);
        assertThat(preference).isNotEmpty().hasSizeLessThanOrEqualTo(4);
        assertThat(r.stepsByStage()).containsOnlyKeys("wrpo");
        assertThat(rec.progress).isSorted().last().isEqualTo(1.0);
        // Independent recomputation: the preference records are the SFT model's samples, not the original target's.
        List<PromptCandidates> prompts = CandidatesJsonl.readAll(candidates);
        try (ResponseScorer scorer = ResponseScorer.rewardModel(rm, EngineOptions.cpu())) {
            List<Integer> idx = PreferenceDataBuilder.split(prompts, scorer, build).preferenceIndices();
            try (LlamaModel sftModel = CheckpointLoader.load(work.resolve("sft-model"), EngineOptions.cpu());
                    TextTokenizer tok = TextTokenizer.load(work.resolve("sft-model"))) {
                assertThat(PreferenceDataBuilder.complete(prompts, idx, scorer, sftModel, tok, build))
                        .isEqualTo(preference);
            }
        }
        // WRPO's first step sees zero rewards: its reference is the SFT model.
        assertThat(rec.steps.get(rec.steps.size() - (int) (long) r.stepsByStage().get("wrpo")).get("rewards/margins"))
                .isZero();
        // A second call finds every phase done and only re-saves the (already trained) final model.
        long before = Files.getLastModifiedTime(work.resolve("data/preference.jsonl")).toMillis();
        WrpoPipeline.run(spec, candidates, rm, target, null, build, work, dir.resolve("out2"),
                Progress.NONE);
        assertThat(Files.getLastModifiedTime(work.resolve("data/preference.jsonl")).toMillis()).isEqualTo(before);
        assertThat(Files.readAllBytes(dir.resolve("out2/model.safetensors")))
                .isEqualTo(Files.readAllBytes(dir.resolve("out/model.safetensors")));
    }

    @Test
    void specProblemsAreRefusedBeforeAnyWorkWhileLongSamplesAreCappedAtTheContext() throws Exception {
        Path target = TinyData.llama(dir.resolve("target"), 12);
        Path candidates = dir.resolve("candidates.jsonl");
        Files.writeString(candidates, "{\"prompt\": \"q\", \"source_responses\": [{\"text\": \"a\", \"score\": 1},"
                + " {\"text\": \"b\", \"score\": 0}]}\n");
        FusionSpec spec = FusionRunnerTest.spec(", \"stages\": \"sft,wrpo\", \"epochs\": 1, \"maxLength\": 300");
        // the reference's 4096 new tokens on a 256-position model: samples stop at the context (as vLLM), no problem
        assertThat(WrpoPipeline.validate(FusionRunnerTest.spec(", \"maxLength\": 48"), BuildSettings.reference(),
                target)).isEmpty();
        Path work = dir.resolve("work");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> WrpoPipeline.run(spec, candidates, null, target, null,
                BuildSettings.reference(), work, dir.resolve("out"), Progress.NONE))
                .isInstanceOfSatisfying(InvalidFusionSpecException.class, e -> assertThat(e.problems()).containsExactly(
                        "maxLength 300 exceeds the target's max_position_embeddings 256"));
        assertThat(work).as("nothing was started").doesNotExist();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BuildSettings(0.5, 65, 16, 1.0, 1.0, 3))
                .hasMessage("targetSamples must be between 2 (best and worst) and 64, got 65");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BuildSettings(0.5, 2, 32769, 1.0, 1.0, 3))
                .hasMessage("maxNewTokens must be at most 32768, got 32769");
    }
}
