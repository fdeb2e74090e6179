package dev.amalgam.modelengine.reward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.ModelHead;
import dev.amalgam.modelengine.UnsupportedModelException;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * A multi-objective reward model with a gating network in ArmoRM's layout ({@code LlamaForRewardModelWithGating},
 * Wang et al., 2024, arXiv:2406.12845), scored as its modeling code does:
 *
 * <ol>
 *   <li>the Llama decoder (with its final norm) runs over the whole conversation;</li>
 *   <li>{@code rewards = regression_layer(h[s])}, one value per objective ({@code num_objectives}), with s the last
 *       token (with a {@code pad_token_id} in config.json: the token before its first occurrence, see
 *       {@link #scorePosition});</li>
 *   <li>{@code gate = softmax(mlp(h[g]) / gating_temperature) * logit_scale}, with the MLP {@code gating.layers}
 *       ({@code gating_n_hidden} ReLU layers of {@code gating_hidden_dim}, then a linear layer to the objectives) and
 *       g the start of the last occurrence of the token pattern that ends the prompt
 *       (see {@link #gatingPosition});</li>
 *   <li>{@code score = sum_k gate_k * (rewards @ reward_transform_matrix)_k}.</li>
 * </ol>
 * The config fields default as in ArmoRM's code (19 objectives, hidden dim 1024, 3 hidden layers, temperature 10);
 * the head runs in FP32 whatever the decoder's compute type.
 *
 * <pre>{@code
 * try (GatedRewardModel rm = GatedRewardModel.load(dir, EngineOptions.cpu());
 *      TextTokenizer tok = TextTokenizer.load(dir)) {
 *     float[] scores = rm.scoreChats(tok, List.of(List.of(ChatMessage.user("2+2?"), ChatMessage.assistant("4"))));
 * }
 * }</pre>
 */
public final class GatedRewardModel implements AutoCloseable {

    /**
     * The text whose tokens ArmoRM's gating looks for: the end of the user turn and the assistant header of Llama 3's
     * chat format (ArmoRM hard-codes its Llama-3 ids {@code [128009, 128006, 78191, 128007, 271]}, which are this
     * text's tokens; {@link #scoreChats} tokenises the text with the model's own tokenizer).
     */
    public static final String GATING_PATTERN_TEXT = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";

    /**
     * The head's hyper-parameters from config.json.
     *
     * @param numObjectives outputs of the regression layer and of the gating network
     * @param gatingHiddenDim width of the gating network's hidden layers
     * @param gatingNHidden hidden (ReLU) layers of the gating network before its output layer
     * @param gatingTemperature divides the gating logits before the softmax
     */
    public record Settings(int numObjectives, int gatingHiddenDim, int gatingNHidden, double gatingTemperature) {

        /** ArmoRM's code defaults for absent fields. */
        public static Settings fromConfig(JsonNode config) {
            Settings s = new Settings(integer(config, "num_objectives", 19), integer(config, "gating_hidden_dim", 1024),
                    integer(config, "gating_n_hidden", 3), number(config, "gating_temperature", 10));
            if (s.numObjectives < 1 || s.gatingHiddenDim < 1 || s.gatingNHidden < 0) {
                throw new UnsupportedModelException("config.json: num_objectives and gating_hidden_dim must be >= 1 and"
                        + " gating_n_hidden >= 0, got " + s);
            }
            if (!(s.gatingTemperature > 0) || Double.isInfinite(s.gatingTemperature)) {
                throw new UnsupportedModelException("config.json: gating_temperature must be a finite number > 0, got "
                        + s.gatingTemperature);
            }
            return s;
        }

        private static int integer(JsonNode json, String key, int fallback) {
            JsonNode n = json.path(key);
            if (n.isMissingNode() || n.isNull()) {
                return fallback;
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                throw new UnsupportedModelException("config.json: '" + key + "' must be an integer, got " + n);
            }
            return n.asInt();
        }

        private static double number(JsonNode json, String key, double fallback) {
            JsonNode n = json.path(key);
            if (n.isMissingNode() || n.isNull()) {
                return fallback;
            }
            if (!n.isNumber()) {
                throw new UnsupportedModelException("config.json: '" + key + "' must be a number, got " + n);
            }
            return n.asDouble();
        }
    }

    /**
     * One sequence's outputs, as ArmoRM's {@code CustomOutput}.
     *
     * @param rewards the regression layer's per-objective rewards (before the transform)
     * @param gatingWeights the gating network's output (softmax times {@code logit_scale})
     * @param score the gated, transformed sum: the preference score
     * @param scorePosition where the rewards were read
     * @param gatingPosition where the gating network's input was read
     */
    public record Output(float[] rewards, float[] gatingWeights, float score, int scorePosition, int gatingPosition) {
    }

    private final LlamaModel model;
    private final Settings settings;
    private final NDManager head;
    private final NDArray regression; // [K, hidden]
    private final NDArray transform; // [K, K]
    private final float logitScale;
    private final List<NDArray> gatingWeights = new ArrayList<>();
    private final List<NDArray> gatingBiases = new ArrayList<>();

    private GatedRewardModel(LlamaModel model, Settings settings, HfModelDir dir) {
        this.model = model;
        this.settings = settings;
        this.head = model.manager().newSubManager();
        int h = model.config().hiddenSize();
        int k = settings.numObjectives();
        this.regression = tensor(dir, "regression_layer.weight", k, h);
        this.transform = tensor(dir, "reward_transform_matrix", k, k);
        this.logitScale = tensor(dir, "gating.logit_scale", 1).getFloat(0);
        int in = h;
        for (int i = 0; i <= settings.gatingNHidden(); i++) {
            int out = i < settings.gatingNHidden() ? settings.gatingHiddenDim() : k;
            gatingWeights.add(tensor(dir, "gating.layers." + i + ".weight", out, in));
            gatingBiases.add(tensor(dir, "gating.layers." + i + ".bias", out));
            in = out;
        }
        String extra = "gating.layers." + (settings.gatingNHidden() + 1) + ".weight";
        if (dir.hasTensor(extra)) {
            throw new UnsupportedModelException(dir.dir() + " has " + extra + ": more gating layers than config.json's"
                    + " gating_n_hidden " + settings.gatingNHidden() + " + 1");
        }
    }

    /** Loads a {@code *ForRewardModelWithGating} directory (decoder and head); close the model to free it. */
    public static GatedRewardModel load(Path dir, EngineOptions options) {
        try (HfModelDir hf = HfModelDir.open(dir)) {
            LlamaModel model = CheckpointLoader.load(hf, options);
            try {
                if (model.config().head() != ModelHead.REWARD_MODEL_WITH_GATING) {
                    throw new UnsupportedModelException("a gated reward model needs a *ForRewardModelWithGating"
                            + " checkpoint, got " + model.config().architecture().className(model.config().head()));
                }
                return new GatedRewardModel(model, Settings.fromConfig(hf.config()), hf);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
    }

    public LlamaModel model() {
        return model;
    }

    public Settings settings() {
        return settings;
    }

    /**
     * ArmoRM's reward position: with no {@code pad_token_id} the last token; otherwise the token before the first
     * occurrence of the pad id, and the last token when the pad id does not occur or comes first (its
     * {@code (argmax(ids == pad) - 1) % length} on an unpadded sequence).
     */
    public static int scorePosition(int[] ids, Integer padTokenId) {
        if (padTokenId != null) {
            for (int t = 0; t < ids.length; t++) {
                if (ids[t] == padTokenId) {
                    return t == 0 ? ids.length - 1 : t - 1;
                }
            }
        }
        return ids.length - 1;
    }

    /**
     * ArmoRM's gating position: the start of the last occurrence of {@code pattern} in {@code ids}.
     *
     * @throws IllegalArgumentException when the pattern does not occur (ArmoRM raises then too)
     */
    public static int gatingPosition(int[] ids, int[] pattern) {
        if (pattern.length == 0) {
            throw new IllegalArgumentException("the gating token pattern is empty");
        }
        for (int j = ids.length - pattern.length; j >= 0; j--) {
            if (Arrays.equals(ids, j, j + pattern.length, pattern, 0, pattern.length)) {
                return j;
            }
        }
        throw new IllegalArgumentException("the gating token pattern " + Arrays.toString(pattern)
                + " does not occur in the sequence");
    }

    /** The outputs of each token sequence (batched, right-padded; padding changes nothing). */
    public List<Output> evaluate(List<int[]> sequences, int[] gatingPattern) {
        int batch = sequences.size();
        if (batch == 0) {
            return List.of();
        }
        int[] scoreAt = new int[batch];
        int[] gateAt = new int[batch];
        int len = 0;
        for (int i = 0; i < batch; i++) {
            int[] s = sequences.get(i);
            if (s.length == 0) {
                throw new IllegalArgumentException("cannot score an empty sequence (sequence " + i + ")");
            }
            scoreAt[i] = scorePosition(s, model.config().padTokenId());
            try {
                gateAt[i] = gatingPosition(s, gatingPattern);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("sequence " + i + ": " + e.getMessage(), e);
            }
            len = Math.max(len, s.length);
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
        int k = settings.numObjectives();
        try (NDManager m = model.manager().newSubManager()) {
            NDArray hidden = model.forward(m.create(ids), m.create(mask), BlockMask.none(), null, false, len)
                    .lastHiddenState(); // [batch, len, hidden] after the final norm
            NDArray atScore = rows(hidden, scoreAt);
            NDArray atGate = rows(hidden, gateAt);
            NDArray rewards = Linear.linear(atScore, regression).singletonOrThrow(); // [batch, K]
            NDArray x = atGate;
            for (int i = 0; i < gatingWeights.size(); i++) {
                x = Linear.linear(x, gatingWeights.get(i), gatingBiases.get(i)).singletonOrThrow();
                if (i < gatingWeights.size() - 1) {
                    x = Activation.relu(x);
                }
            }
            NDArray gate = x.div(settings.gatingTemperature()).softmax(1).mul(logitScale); // [batch, K]
            NDArray score = gate.mul(rewards.matMul(transform)).sum(new int[] {1}); // [batch]
            float[] r = rewards.toFloatArray();
            float[] g = gate.toFloatArray();
            float[] sc = score.toFloatArray();
            List<Output> out = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                out.add(new Output(Arrays.copyOfRange(r, i * k, (i + 1) * k), Arrays.copyOfRange(g, i * k, (i + 1) * k),
                        sc[i], scoreAt[i], gateAt[i]));
            }
            return out;
        }
    }

    /** The preference score of each token sequence. */
    public float[] score(List<int[]> sequences, int[] gatingPattern) {
        List<Output> out = evaluate(sequences, gatingPattern);
        float[] s = new float[out.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = out.get(i).score();
        }
        return s;
    }

    /**
     * Scores whole conversations (a prompt and the candidate response as the last, assistant message), rendered with
     * the model's chat template without a generation prompt (as ArmoRM's usage, {@code apply_chat_template}), gating
     * on {@link #GATING_PATTERN_TEXT} in the model's tokenisation.
     */
    public float[] scoreChats(TextTokenizer tokenizer, List<List<ChatMessage>> conversations) {
        int[] pattern = tokenizer.encode(GATING_PATTERN_TEXT, false);
        List<int[]> ids = new ArrayList<>();
        for (List<ChatMessage> c : conversations) {
            ids.add(tokenizer.encodeChat(c, false));
        }
        return score(ids, pattern);
    }

    /** The rows {@code hidden[i, positions[i]]} as [batch, hidden] FP32. */
    private static NDArray rows(NDArray hidden, int[] positions) {
        NDList rows = new NDList();
        for (int i = 0; i < positions.length; i++) {
            rows.add(hidden.get(new NDIndex("{}, {}", i, positions[i])));
        }
        NDArray stacked = NDArrays.stack(rows);
        return stacked.getDataType() == DataType.FLOAT32 ? stacked : stacked.toType(DataType.FLOAT32, false);
    }

    /** A head tensor by its ArmoRM name, checked against the shape the config implies, as FP32 on the device. */
    private NDArray tensor(HfModelDir dir, String name, long... shape) {
        if (!dir.hasTensor(name)) {
            throw new UnsupportedModelException(dir.dir() + " has no tensor " + name + " required by "
                    + model.config().architecture().className(model.config().head()));
        }
        Tensor t = dir.tensor(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new UnsupportedModelException("tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape) + " (from config.json)");
        }
        if (!t.dtype().isFloatingPoint()) {
            throw new UnsupportedModelException("tensor " + name + " has non-float dtype " + t.dtype());
        }
        return head.create(t.toFloatArray(), new Shape(shape));
    }

    @Override
    public void close() {
        head.close();
        model.close();
    }
}
