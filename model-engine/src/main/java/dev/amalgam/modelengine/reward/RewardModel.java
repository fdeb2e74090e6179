package dev.amalgam.modelengine.reward;

import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.ModelHead;
import dev.amalgam.modelengine.UnsupportedModelException;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A reward model of {@code LlamaForSequenceClassification} style: the decoder, its final norm, and a {@code score}
 * projection read at each sequence's last real token (Hugging Face's pooling), giving one scalar per sequence.
 * Used to rank sampled responses when building fusion data.
 *
 * <pre>{@code
 * try (RewardModel rm = RewardModel.load(dir, EngineOptions.cpu())) {
 *     float[] rewards = rm.score(List.of(ids1, ids2));
 * }
 * }</pre>
 */
public final class RewardModel implements AutoCloseable {

    private final LlamaModel model;

    /** Wraps a loaded model whose head is {@link ModelHead#SEQUENCE_CLASSIFICATION}; takes ownership. */
    public RewardModel(LlamaModel model) {
        if (model.config().head() != ModelHead.SEQUENCE_CLASSIFICATION) {
            throw new UnsupportedModelException("a reward model needs a *ForSequenceClassification checkpoint, got "
                    + model.config().architecture().className(model.config().head()));
        }
        if (model.config().numLabels() != 1) {
            throw new UnsupportedModelException("a reward model has num_labels = 1, got " + model.config().numLabels());
        }
        this.model = model;
    }

    public static RewardModel load(Path dir, EngineOptions options) {
        LlamaModel model = CheckpointLoader.load(dir, options);
        try {
            return new RewardModel(model);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public LlamaModel model() {
        return model;
    }

    /** One reward per token sequence (batched, right-padded; padding does not change a score). */
    public float[] score(List<int[]> sequences) {
        int batch = sequences.size();
        int len = sequences.stream().mapToInt(s -> s.length).max().orElse(0);
        if (batch == 0) {
            return new float[0];
        }
        if (sequences.stream().anyMatch(s -> s.length == 0)) {
            throw new IllegalArgumentException("cannot score an empty sequence");
        }
        long[][] ids = new long[batch][len];
        long[][] mask = new long[batch][len];
        for (int i = 0; i < batch; i++) {
            int[] s = sequences.get(i);
            for (int t = 0; t < s.length; t++) {
                ids[i][t] = s[t];
                mask[i][t] = 1;
            }
        }
        try (NDManager m = model.manager().newSubManager()) {
            float[] perPosition = model.logits(m.create(ids), m.create(mask), BlockMask.none()).toFloatArray(); // [b, len, 1]
            float[] out = new float[batch];
            for (int i = 0; i < batch; i++) {
                out[i] = perPosition[i * len + sequences.get(i).length - 1]; // last real token
            }
            return out;
        }
    }

    /** Scores whole conversations (e.g. prompt plus candidate response) rendered with the reward model's template. */
    public float[] scoreChats(TextTokenizer tokenizer, List<List<ChatMessage>> conversations) {
        List<int[]> ids = new ArrayList<>();
        for (List<ChatMessage> c : conversations) {
            ids.add(tokenizer.encodeChat(c, false));
        }
        return score(ids);
    }

    @Override
    public void close() {
        model.close();
    }
}
