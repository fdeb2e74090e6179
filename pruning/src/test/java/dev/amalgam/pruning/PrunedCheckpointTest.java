package dev.amalgam.pruning;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The written checkpoint computes what the engine's masked forward of the original computes. */
class PrunedCheckpointTest {

    /** Layer 1 loses both blocks (dropped), layer 2 its attention, layer 3 its MLP; layer 0 is intact. */
    static final List<Block> REMOVED = List.of(Block.attention(1), Block.mlp(1), Block.attention(2), Block.mlp(3));
    static final long[][] IDS = {{256, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100}, {1, 2, 3, 4, 5, 6, 7, 8,
            9, 10, 11, 12}};

    @TempDir
    Path tmp;

    static float[] logits(LlamaModel model, BlockMask mask) {
        try (NDManager m = model.manager().newSubManager()) {
            NDArray ids = m.create(IDS);
            return model.logits(ids, null, mask).toFloatArray();
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void maskedFormLoadsPlainlyAndEqualsTheMaskedForward(Architecture arch) {
        Path source = Tiny.model(arch, tmp.resolve("src"), 4, DType.BF16, 3);
        Path out = tmp.resolve("out");
        try (HfModelDir hf = HfModelDir.open(source)) {
            int[] map = PrunedCheckpoint.write(hf, REMOVED, OutputForm.MASKED, "blockpruner", out);
            assertThat(map).containsExactly(0, -1, 1, 2);
        }
        float[] expected;
        float[] dense;
        try (LlamaModel original = CheckpointLoader.load(source, EngineOptions.cpu())) {
            expected = logits(original, Block.mask(REMOVED));
            dense = logits(original, BlockMask.none());
        }
        try (LlamaModel pruned = CheckpointLoader.load(out, EngineOptions.cpu())) { // no mask: plain loading
            assertThat(pruned.config().numHiddenLayers()).isEqualTo(3);
            assertThat(logits(pruned, BlockMask.none())).containsExactly(expected);
        }
        assertThat(dense).isNotEqualTo(expected);
        try (HfModelDir src = HfModelDir.open(source); HfModelDir hf = HfModelDir.open(out)) {
            // Transformers' layout: layers 0..n-1 with every tensor of the source's layers, nothing else renamed.
            Set<String> expectedNames = new TreeSet<>();
            for (String name : src.tensorNames()) {
                if (!name.startsWith("model.layers.")) {
                    expectedNames.add(name);
                } else if (name.startsWith("model.layers.0.")) {
                    for (int i = 0; i < 3; i++) {
                        expectedNames.add(name.replace("model.layers.0.", "model.layers." + i + "."));
                    }
                }
            }
            assertThat(new TreeSet<>(hf.tensorNames())).isEqualTo(expectedNames);
            assertThat(hf.tensorNames().contains("lm_head.weight")).isEqualTo(arch != Architecture.QWEN2);
            assertThat(hf.config().get("num_hidden_layers").asInt()).isEqualTo(3);
            assertThat(hf.config().get("amalgam_pruning").get("removed_blocks").toString())
                    .isEqualTo("[[\"mha\",1],[\"mlp\",1],[\"mha\",2],[\"mlp\",3]]");
            if (arch == Architecture.QWEN2) {
                assertThat(hf.config().get("max_window_layers").asInt()).isEqualTo(3);
            }
            // Lone removed blocks: output projection zero, every other tensor byte-identical to its source.
            assertThat(hf.tensor("model.layers.1.self_attn.o_proj.weight").toFloatArray()).containsOnly(0f);
            assertThat(hf.tensor("model.layers.2.mlp.down_proj.weight").toFloatArray()).containsOnly(0f);
            assertThat(hf.tensor("model.layers.1.self_attn.q_proj.weight").rawBytes())
                    .isEqualTo(src.tensor("model.layers.2.self_attn.q_proj.weight").rawBytes());
            assertThat(hf.tensor("model.layers.2.mlp.up_proj.weight").rawBytes())
                    .isEqualTo(src.tensor("model.layers.3.mlp.up_proj.weight").rawBytes());
            assertThat(Files.exists(out.resolve("tokenizer.json"))).isTrue();
        }
    }

    /** Per-layer config entries follow the renumbering; unrelated keys stay as they were. */
    @org.junit.jupiter.api.Test
    void perLayerConfigEntriesFollowTheKeptLayers() throws Exception {
        Path source = Tiny.model(Architecture.QWEN2, tmp.resolve("src"), 4, DType.BF16, 5);
        Path config = source.resolve("config.json");
        Files.writeString(config, Files.readString(config).replaceFirst("\\{", "{\"layer_types\": [\"full_attention\", "
                + "\"sliding_attention\", \"full_attention\", \"sliding_attention\"], \"drop_mlp_list\": [9], ")
                .replaceFirst("\"max_window_layers\" : 4", "\"max_window_layers\" : 3"));
        Path out = tmp.resolve("out");
        try (HfModelDir hf = HfModelDir.open(source)) {
            assertThat(hf.config().get("max_window_layers").asInt()).isEqualTo(3);
            PrunedCheckpoint.write(hf, REMOVED, OutputForm.MASKED, "layer_greedy", out);
        }
        try (HfModelDir hf = HfModelDir.open(out)) {
            assertThat(hf.config().get("layer_types").toString())
                    .isEqualTo("[\"full_attention\",\"full_attention\",\"sliding_attention\"]");
            assertThat(hf.config().get("max_window_layers").asInt()).isEqualTo(2); // layers 0 and 2 were below 3
            assertThat(hf.config().has("drop_mlp_list")).isFalse(); // a stale list would mislead loaders
            assertThat(hf.config().get("rope_theta").asDouble()).isEqualTo(1000000.0);
            assertThat(hf.config().get("amalgam_pruning").get("method").asString()).isEqualTo("layer_greedy");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"LLAMA", "QWEN2"})
    void compactFormDropsTheWeightsAndLoadsWithItsMask(Architecture arch) {
        Path source = Tiny.model(arch, tmp.resolve("src"), 4, DType.BF16, 4);
        Path out = tmp.resolve("compact");
        try (HfModelDir hf = HfModelDir.open(source)) {
            PrunedCheckpoint.write(hf, REMOVED, OutputForm.COMPACT, "blockpruner", out);
        }
        float[] expected;
        try (LlamaModel original = CheckpointLoader.load(source, EngineOptions.cpu())) {
            expected = logits(original, Block.mask(REMOVED));
        }
        try (HfModelDir hf = HfModelDir.open(out)) {
            assertThat(hf.config().get("drop_attn_list").toString()).isEqualTo("[1]");
            assertThat(hf.config().get("drop_mlp_list").toString()).isEqualTo("[2]");
            List<String> layer1 = new ArrayList<>();
            hf.tensorNames().stream().filter(n -> n.startsWith("model.layers.1.")).forEach(layer1::add);
            assertThat(layer1).isNotEmpty().allMatch(n -> n.contains(".mlp.") || n.contains("post_attention_layernorm"));
            assertThat(hf.tensorNames()).noneMatch(n -> n.startsWith("model.layers.2.mlp.")
                    || n.startsWith("model.layers.2.post_attention_layernorm") || n.startsWith("model.layers.3."));
        }
        try (CompactCheckpointLoader.Loaded loaded = CompactCheckpointLoader.load(out, EngineOptions.cpu())) {
            assertThat(loaded.mask()).isEqualTo(BlockMask.none().skipAttention(1).skipMlp(2));
            assertThat(logits(loaded.model(), loaded.mask())).containsExactly(expected);
        }
    }
}
