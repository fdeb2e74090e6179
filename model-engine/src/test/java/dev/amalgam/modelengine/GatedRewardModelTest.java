package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.modelengine.reward.GatedRewardModel;
import dev.amalgam.modelengine.reward.RewardModel;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * ArmoRM's layout ({@code LlamaForRewardModelWithGating}) on a tiny random checkpoint against a naive reference that
 * reads the tensors by ArmoRM's names: the decoder by {@link NaiveLlama}, the head with plain loops written from
 * ArmoRM's modeling code.
 */
class GatedRewardModelTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    // The tiny Llama-3-style tokenizer: bytes are their own ids, then <|begin_of_text|> 256, <|eot_id|> 257,
    // <|finetune_right_pad_id|> 258, <|start_header_id|> 259, <|end_header_id|> 260.
    private static final int EOT = 257;
    private static final int PAD = 258;

    @TempDir
    Path dir;

    @Test
    void scoreIsTheGatedTransformedRewardAtArmoRmsPositions() {
        TinyModels.writeGatedRewardModel(dir, new TinySizes(32, 48, 2, 4, 2, 64, DType.F32), 21);
        Map<String, float[]> w = weights(dir);
        List<List<ChatMessage>> chats = List.of(
                List.of(ChatMessage.user("What is 2+2?"), ChatMessage.assistant("4")),
                List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Hello!"), ChatMessage.user("Name a colour"),
                        ChatMessage.assistant("Blue, like the sky.")));
        try (GatedRewardModel rm = GatedRewardModel.load(dir, EngineOptions.cpu());
                TextTokenizer tok = TextTokenizer.load(dir)) {
            assertThat(rm.settings()).isEqualTo(new GatedRewardModel.Settings(5, 16, 2, 0.5));
            // ArmoRM's marker in this tokenizer: <|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n.
            List<Integer> marker = new ArrayList<>(List.of(EOT, 259));
            "assistant".chars().forEach(marker::add);
            marker.addAll(List.of(260, 10, 10));
            int[] pattern = tok.encode(GatedRewardModel.GATING_PATTERN_TEXT, false);
            assertThat(pattern).containsExactly(marker.stream().mapToInt(Integer::intValue).toArray());

            List<int[]> ids = new ArrayList<>();
            chats.forEach(c -> ids.add(tok.encodeChat(c, false)));
            List<GatedRewardModel.Output> batch = rm.evaluate(ids, pattern);
            float[] viaChats = rm.scoreChats(tok, chats);
            for (int i = 0; i < ids.size(); i++) {
                int[] s = ids.get(i);
                int gate = lastOccurrence(s, pattern);
                // The gate reads the prompt's end: for the two-turn chat, the second user turn's <|eot_id|>.
                assertThat(s[gate]).isEqualTo(EOT);
                assertThat(count(s, EOT)).isEqualTo(chats.get(i).size());
                Expected e = reference(w, s, s.length - 1, gate);
                GatedRewardModel.Output out = batch.get(i);
                assertThat(out.scorePosition()).isEqualTo(s.length - 1);
                assertThat(out.gatingPosition()).isEqualTo(gate);
                for (int k = 0; k < 5; k++) {
                    assertThat((double) out.rewards()[k]).isCloseTo(e.rewards[k], within(2e-4));
                    assertThat((double) out.gatingWeights()[k]).isCloseTo(e.gate[k], within(2e-5));
                }
                assertThat((double) out.score()).isCloseTo(e.score, within(2e-4 * Math.max(1, Math.abs(e.score))));
                // Far from uniform gating (what the low tiny temperature is for), so the gate position matters.
                assertThat(max(e.gate) - min(e.gate)).isGreaterThan(0.05);
                // Alone (no padding) the same; through the chat path the same.
                assertThat(rm.score(List.of(s), pattern)[0]).isCloseTo(out.score(), within(1e-5f));
                assertThat(viaChats[i]).isEqualTo(out.score());
            }
            // Reading the gate anywhere else gives another score: the position is part of the result.
            int[] s = ids.get(1);
            Expected elsewhere = reference(w, s, s.length - 1, lastOccurrence(s, pattern) - 1);
            assertThat(Math.abs(elsewhere.score - batch.get(1).score())).isGreaterThan(1e-3);
        }
    }

    @Test
    void positionsFollowArmoRmsRules() {
        int[] ids = {5, 6, 7, 6, 8};
        assertThat(GatedRewardModel.scorePosition(ids, null)).isEqualTo(4);
        assertThat(GatedRewardModel.scorePosition(ids, 9)).isEqualTo(4); // pad absent: argmax 0, -1 mod len
        assertThat(GatedRewardModel.scorePosition(ids, 6)).isEqualTo(0); // before the pad id's first occurrence
        assertThat(GatedRewardModel.scorePosition(ids, 5)).isEqualTo(4); // first token: -1 mod len
        assertThat(GatedRewardModel.gatingPosition(new int[] {1, 2, 3, 1, 2, 4}, new int[] {1, 2})).isEqualTo(3);
        assertThat(GatedRewardModel.gatingPosition(new int[] {1, 2}, new int[] {1, 2})).isEqualTo(0);
        assertThatThrownBy(() -> GatedRewardModel.gatingPosition(new int[] {1, 3, 2}, new int[] {1, 2}))
                .hasMessageContaining("does not occur");
    }

    @Test
    void aPadIdInsideTheSequenceMovesTheRewardPositionAsInArmoRm() throws Exception {
        TinyModels.writeGatedRewardModel(dir, new TinySizes(32, 48, 2, 4, 2, 64, DType.F32), 22);
        ObjectNode config = (ObjectNode) JSON.readTree(Files.readString(dir.resolve("config.json")));
        config.put("pad_token_id", EOT); // as a checkpoint whose pad is its end-of-turn token
        Files.writeString(dir.resolve("config.json"), config.toString());
        Map<String, float[]> w = weights(dir);
        try (GatedRewardModel rm = GatedRewardModel.load(dir, EngineOptions.cpu());
                TextTokenizer tok = TextTokenizer.load(dir)) {
            int[] pattern = tok.encode(GatedRewardModel.GATING_PATTERN_TEXT, false);
            int[] s = tok.encodeChat(List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Yo")), false);
            int firstEot = indexOf(s, EOT);
            GatedRewardModel.Output out = rm.evaluate(List.of(s), pattern).get(0);
            assertThat(out.scorePosition()).isEqualTo(firstEot - 1);
            assertThat((double) out.score()).isCloseTo(reference(w, s, firstEot - 1, lastOccurrence(s, pattern)).score,
                    within(2e-4));
        }
    }

    @Test
    void mismatchedConfigAndOtherLayoutsFailClearly() throws Exception {
        TinyModels.writeGatedRewardModel(dir, new TinySizes(32, 48, 2, 4, 2, 64, DType.F32), 23);
        assertThat(LlamaConfig.read(dir.resolve("config.json")).head()).isEqualTo(ModelHead.REWARD_MODEL_WITH_GATING);
        assertThatThrownBy(() -> RewardModel.load(dir, EngineOptions.cpu()))
                .isInstanceOf(UnsupportedModelException.class).hasMessageContaining("ForSequenceClassification");
        try (LlamaModel decoder = CheckpointLoader.load(dir, EngineOptions.cpu())) {
            assertThatThrownBy(() -> decoder.head(decoder.manager().zeros(new ai.djl.ndarray.types.Shape(1, 32))))
                    .isInstanceOf(UnsupportedModelException.class).hasMessageContaining("GatedRewardModel");
        }
        try (GatedRewardModel rm = GatedRewardModel.load(dir, EngineOptions.cpu())) {
            assertThatThrownBy(() -> rm.evaluate(List.of(new int[] {EOT, 259}, new int[] {1, 2, 3}),
                    new int[] {EOT, 259})).hasMessageContaining("sequence 1").hasMessageContaining("does not occur");
        }
        ObjectNode config = (ObjectNode) JSON.readTree(Files.readString(dir.resolve("config.json")));
        config.put("num_objectives", 4);
        Files.writeString(dir.resolve("config.json"), config.toString());
        assertThatThrownBy(() -> GatedRewardModel.load(dir, EngineOptions.cpu()))
                .isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("regression_layer.weight has shape [5, 32], expected [4, 32]");
        config.put("num_objectives", 5);
        config.put("gating_temperature", 0);
        Files.writeString(dir.resolve("config.json"), config.toString());
        assertThatThrownBy(() -> GatedRewardModel.load(dir, EngineOptions.cpu()))
                .isInstanceOf(UnsupportedModelException.class).hasMessageContaining("gating_temperature");
        Path lm = TinyModels.write(Architecture.LLAMA, dir.resolve("lm"), TinySizes.defaults(), 1);
        assertThatThrownBy(() -> GatedRewardModel.load(lm, EngineOptions.cpu()))
                .isInstanceOf(UnsupportedModelException.class).hasMessageContaining("ForRewardModelWithGating");
    }

    private record Expected(double[] rewards, double[] gate, double score) {
    }

    /** ArmoRM's forward, naively: decoder, regression at {@code at}, gating MLP at {@code gateAt}, transform, sum. */
    private Expected reference(Map<String, float[]> w, int[] ids, int at, int gateAt) {
        JsonNode config = JSON.readTree(read(dir.resolve("config.json")));
        int k = config.get("num_objectives").asInt();
        int nHidden = config.get("gating_n_hidden").asInt();
        double temperature = config.get("gating_temperature").asDouble();
        NaiveLlama decoder = new NaiveLlama(new NaiveLlama.Params(262, 32, 48, 2, 4, 2, 8, 1e-6, 10000.0, false, false,
                null, null), w);
        double[][] h = decoder.finalHidden(ids, ones(ids.length), Set.of(), Set.of());
        double[] rewards = affine(w.get("regression_layer.weight"), null, h[at], k);
        double[] x = h[gateAt];
        for (int i = 0; i <= nHidden; i++) {
            float[] bias = w.get("gating.layers." + i + ".bias");
            x = affine(w.get("gating.layers." + i + ".weight"), bias, x, bias.length);
            if (i < nHidden) {
                for (int j = 0; j < x.length; j++) {
                    x[j] = Math.max(0, x[j]);
                }
            }
        }
        double maxLogit = max(x);
        double sum = 0;
        double[] gate = new double[k];
        for (int j = 0; j < k; j++) {
            gate[j] = Math.exp((x[j] - maxLogit) / temperature);
            sum += gate[j];
        }
        float scale = w.get("gating.logit_scale")[0];
        float[] m = w.get("reward_transform_matrix"); // [K, K], applied as rewards @ M
        double score = 0;
        for (int j = 0; j < k; j++) {
            gate[j] = gate[j] / sum * scale;
            double adjusted = 0;
            for (int i = 0; i < k; i++) {
                adjusted += rewards[i] * m[i * k + j];
            }
            score += gate[j] * adjusted;
        }
        return new Expected(rewards, gate, score);
    }

    private static Map<String, float[]> weights(Path dir) {
        Map<String, float[]> w = new HashMap<>();
        try (HfModelDir hf = HfModelDir.open(dir)) {
            hf.tensorNames().forEach(n -> w.put(n, hf.tensor(n).toFloatArray()));
        }
        return w;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** out = W x + b with W [rows, x.length] row-major. */
    private static double[] affine(float[] weight, float[] bias, double[] x, int rows) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double acc = bias == null ? 0 : bias[r];
            for (int c = 0; c < x.length; c++) {
                acc += weight[r * x.length + c] * x[c];
            }
            out[r] = acc;
        }
        return out;
    }

    private static int lastOccurrence(int[] s, int[] pattern) {
        int found = -1;
        for (int j = 0; j + pattern.length <= s.length; j++) {
            boolean match = true;
            for (int q = 0; q < pattern.length && match; q++) {
                match = s[j + q] == pattern[q];
            }
            if (match) {
                found = j;
            }
        }
        return found;
    }

    private static int indexOf(int[] s, int id) {
        for (int i = 0; i < s.length; i++) {
            if (s[i] == id) {
                return i;
            }
        }
        return -1;
    }

    private static int count(int[] s, int id) {
        int n = 0;
        for (int v : s) {
            n += v == id ? 1 : 0;
        }
        return n;
    }

    private static double max(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            m = Math.max(m, x);
        }
        return m;
    }

    private static double min(double[] v) {
        double m = Double.POSITIVE_INFINITY;
        for (double x : v) {
            m = Math.min(m, x);
        }
        return m;
    }

    private static int[] ones(int n) {
        int[] m = new int[n];
        java.util.Arrays.fill(m, 1);
        return m;
    }
}
