package dev.amalgam.fusion.build;

import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.reward.RewardModel;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scores responses to a prompt. {@link #rewardModel} scores with a {@code *ForSequenceClassification} checkpoint
 * through the engine's reward head, each response rendered as the assistant turn with the reward model's own chat
 * template.
 */
public interface ResponseScorer extends AutoCloseable {

    /** One score per response (higher is better). */
    double[] score(List<ChatMessage> prompt, List<String> responses);

    @Override
    default void close() {
    }

    /** Loads a reward model directory (weights and tokenizer); close the scorer to free it. */
    static ResponseScorer rewardModel(Path dir, EngineOptions options) {
        TextTokenizer tokenizer = TextTokenizer.load(dir);
        RewardModel rm;
        try {
            rm = RewardModel.load(dir, options);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
        return new ResponseScorer() {
            @Override
            public double[] score(List<ChatMessage> prompt, List<String> responses) {
                List<List<ChatMessage>> chats = new ArrayList<>();
                for (String r : responses) {
                    List<ChatMessage> c = new ArrayList<>(prompt);
                    c.add(ChatMessage.assistant(r));
                    chats.add(c);
                }
                float[] s = rm.scoreChats(tokenizer, chats);
                double[] out = new double[s.length];
                for (int i = 0; i < s.length; i++) {
                    out[i] = s[i];
                }
                return out;
            }

            @Override
            public void close() {
                rm.close();
                tokenizer.close();
            }
        };
    }
}
