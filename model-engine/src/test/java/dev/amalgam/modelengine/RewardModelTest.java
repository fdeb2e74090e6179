package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.modelengine.reward.RewardModel;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewardModelTest {

    @TempDir
    Path dir;

    @Test
    void rewardIsTheScoreProjectionOfTheLastRealTokenAndIgnoresPadding() {
        TinyModels.writeRewardModel(Architecture.QWEN2, dir, new TinySizes(32, 48, 2, 4, 2, 64, DType.F32), 9);
        Map<String, float[]> w = new HashMap<>();
        try (HfModelDir hf = HfModelDir.open(dir)) {
            hf.tensorNames().forEach(n -> w.put(n, hf.tensor(n).toFloatArray()));
        }
        NaiveLlama ref = new NaiveLlama(new NaiveLlama.Params(262, 32, 48, 2, 4, 2, 8, 1e-6, 1e6, false, true, null,
                null), w);
        int[] a = {256, 10, 20, 30, 40, 50};
        int[] b = {256, 7};
        try (RewardModel rm = RewardModel.load(dir, EngineOptions.cpu())) {
            float[] batch = rm.score(List.of(a, b));
            for (int i = 0; i < 2; i++) {
                int[] s = i == 0 ? a : b;
                double[][] h = ref.finalHidden(s, ones(s.length), Set.of(), Set.of());
                double expected = 0;
                for (int j = 0; j < 32; j++) {
                    expected += w.get("score.weight")[j] * h[s.length - 1][j];
                }
                assertThat((double) batch[i]).isCloseTo(expected, within(1e-4 * Math.max(1, Math.abs(expected))));
                assertThat(rm.score(List.of(s))[0]).isCloseTo(batch[i], within(1e-5f));
            }
            try (TextTokenizer tok = TextTokenizer.load(dir)) {
                List<ChatMessage> chat = List.of(ChatMessage.user("2+2?"), ChatMessage.assistant("4"));
                float[] chats = rm.scoreChats(tok, List.of(chat));
                assertThat(chats[0]).isEqualTo(rm.score(List.of(tok.encodeChat(chat, false)))[0]);
            }
        }
    }

    @Test
    void causalLmIsNotARewardModel() {
        TinyModels.write(Architecture.LLAMA, dir, TinySizes.defaults(), 1);
        assertThatThrownBy(() -> RewardModel.load(dir, EngineOptions.cpu()))
                .isInstanceOf(UnsupportedModelException.class).hasMessageContaining("ForSequenceClassification");
    }

    private static int[] ones(int n) {
        int[] m = new int[n];
        java.util.Arrays.fill(m, 1);
        return m;
    }
}
