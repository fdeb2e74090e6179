package dev.amalgam.fusion.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.reward.GatedRewardModel;
import dev.amalgam.modelengine.reward.RewardModel;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reward model a data build loads is the one its config.json names, scored on prompt + response chats. */
class ResponseScorerTest {

    private static final TinySizes SIZES = new TinySizes(32, 48, 2, 4, 2, 128, DType.F32);
    private static final List<ChatMessage> PROMPT = List.of(ChatMessage.user("Name a prime number."));
    private static final List<String> RESPONSES = List.of("7", "Eight.", "Two is the smallest prime.");

    @TempDir
    Path dir;

    @Test
    void anArmoRmLayoutIsScoredByItsGatedHead() {
        Path rmDir = TinyModels.writeGatedRewardModel(dir.resolve("armo"), SIZES, 3);
        double[] scores;
        try (ResponseScorer scorer = ResponseScorer.rewardModel(rmDir, EngineOptions.cpu())) {
            scores = scorer.score(PROMPT, RESPONSES);
        }
        try (GatedRewardModel rm = GatedRewardModel.load(rmDir, EngineOptions.cpu());
                TextTokenizer tok = TextTokenizer.load(rmDir)) {
            for (int i = 0; i < RESPONSES.size(); i++) {
                int[] ids = tok.encodeChat(List.of(PROMPT.get(0), ChatMessage.assistant(RESPONSES.get(i))), false);
                int[] pattern = tok.encode(GatedRewardModel.GATING_PATTERN_TEXT, false);
                GatedRewardModel.Output out = rm.evaluate(List.of(ids), pattern).get(0);
                assertThat(scores[i]).isCloseTo(out.score(), within(1e-5));
                assertThat(out.scorePosition()).isEqualTo(ids.length - 1);
            }
        }
        assertThat(scores[0]).isNotEqualTo(scores[1]);
    }

    @Test
    void aSequenceClassificationCheckpointStillUsesTheScoreHead() {
        Path rmDir = TinyModels.writeRewardModel(Architecture.LLAMA, dir.resolve("seq"), SIZES, 4);
        double[] scores;
        try (ResponseScorer scorer = ResponseScorer.rewardModel(rmDir, EngineOptions.cpu())) {
            scores = scorer.score(PROMPT, RESPONSES);
        }
        try (RewardModel rm = RewardModel.load(rmDir, EngineOptions.cpu());
                TextTokenizer tok = TextTokenizer.load(rmDir)) {
            for (int i = 0; i < RESPONSES.size(); i++) {
                int[] ids = tok.encodeChat(List.of(PROMPT.get(0), ChatMessage.assistant(RESPONSES.get(i))), false);
                assertThat(scores[i]).isCloseTo(rm.score(List.of(ids))[0], within(1e-5));
            }
        }
    }
}
