package dev.amalgam.fusion.build;

import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.ModelHead;
import dev.amalgam.modelengine.reward.GatedRewardModel;
import dev.amalgam.modelengine.reward.RewardModel;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Scores responses to a prompt. {@link #rewardModel} scores with a {@code *ForSequenceClassification} checkpoint
 * through the engine's reward head, or with an ArmoRM-style {@code *ForRewardModelWithGating} checkpoint through
 * {@link GatedRewardModel}; each response is rendered as the assistant turn with the reward model's own chat
 * template.
 */
public interface ResponseScorer extends AutoCloseable {

    /** One score per response (higher is better). */
    double[] score(List<ChatMessage> prompt, List<String> responses);

    @Override
    default void close() {
    }

    /**
     * Loads a reward model directory (weights and tokenizer), a {@code *ForSequenceClassification} or a
     * {@code *ForRewardModelWithGating} checkpoint as its config.json names it; close the scorer to free it.
     */
    static ResponseScorer rewardModel(Path dir, EngineOptions options) {
        boolean gated = LlamaConfig.read(dir.resolve("config.json")).head() == ModelHead.REWARD_MODEL_WITH_GATING;
        TextTokenizer tokenizer = TextTokenizer.load(dir);
        Runnable closeModel;
        Function<List<List<ChatMessage>>, float[]> scoreChats;
        try {
            if (gated) {
                GatedRewardModel rm = GatedRewardModel.load(dir, options);
                closeModel = rm::close;
                scoreChats = chats -> rm.scoreChats(tokenizer, chats);
            } else {
                RewardModel rm = RewardModel.load(dir, options);
                closeModel = rm::close;
                scoreChats = chats -> rm.scoreChats(tokenizer, chats);
            }
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
                float[] s = scoreChats.apply(chats);
                double[] out = new double[s.length];
                for (int i = 0; i < s.length; i++) {
                    out[i] = s[i];
                }
                return out;
            }

            @Override
            public void close() {
                try {
                    closeModel.run();
                } finally {
                    tokenizer.close();
                }
            }
        };
    }
}
