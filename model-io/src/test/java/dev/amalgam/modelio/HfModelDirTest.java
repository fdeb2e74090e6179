package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfModelDirTest {

    @TempDir
    Path dir;

    private static final String CONFIG = "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":4,"
            + "\"num_hidden_layers\":1,\"tie_word_embeddings\":true}";

    /** A hand-assembled single-file model: BF16 embedding [3,4] and F32 norm [4]. */
    private Path writeSingleFileModel() throws IOException {
        Path m = Files.createDirectories(dir.resolve("single"));
        NaiveSafetensors.Bytes d = new NaiveSafetensors.Bytes();
        for (int i = 0; i < 12; i++) {
            d.i16(Dtypes.floatToBf16(i));
        }
        d.f32(1f, 1f, 1f, 1f);
        NaiveSafetensors.write(m.resolve("model.safetensors"),
                "{\"model.embed_tokens.weight\":{\"dtype\":\"BF16\",\"shape\":[3,4],\"data_offsets\":[0,24]},"
                        + "\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40]}}",
                d.toArray());
        Files.writeString(m.resolve("config.json"), CONFIG);
        for (String aux : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                "generation_config.json", "chat_template.jinja", "merges.txt", "vocab.json")) {
            Files.writeString(m.resolve(aux), "{\"file\":\"" + aux + "\"}");
        }
        Files.writeString(m.resolve(".gitattributes"), "*.safetensors filter=lfs");
        Files.writeString(m.resolve("pytorch_model.bin"), "not ours");
        Files.createDirectories(m.resolve("subdir"));
        return m;
    }

    @Test
    void singleFileModel() throws IOException {
        Path m = writeSingleFileModel();
        try (HfModelDir model = HfModelDir.open(m)) {
            assertThat(model.dir()).isEqualTo(m);
            assertThat(model.isSharded()).isFalse();
            assertThat(model.config().get("hidden_size").asInt()).isEqualTo(4);
            assertThat(model.tensorNames()).containsExactly("model.embed_tokens.weight", "model.norm.weight");
            assertThat(model.hasTensor("lm_head.weight")).isFalse();
            assertThat(model.tensor("model.embed_tokens.weight").getFloat(11)).isEqualTo(11f);
            assertThat(model.info("model.norm.weight").begin()).isEqualTo(24);
            assertThat(model.parameterCount()).isEqualTo(16);
            assertThat(model.dominantDtype()).isEqualTo(DType.BF16);
            assertThat(model.auxiliaryFiles()).extracting(p -> p.getFileName().toString()).containsExactly(
                    "chat_template.jinja", "generation_config.json", "merges.txt", "special_tokens_map.json",
                    "tokenizer.json", "tokenizer_config.json", "vocab.json");
            assertThatThrownBy(() -> model.tensor("lm_head.weight"))
                    .hasMessageContaining("lm_head.weight").hasMessageContaining(m.toString());

            Path copy = dir.resolve("copy");
            HfModelDir.copyAuxiliaryFiles(model, copy);
            try (var s = Files.list(copy)) {
                assertThat(s.count()).isEqualTo(7);
            }
            assertThat(Files.readString(copy.resolve("tokenizer.json"))).isEqualTo("{\"file\":\"tokenizer.json\"}");
        }
    }

    @Test
    void shardedModelWrittenByTheCheckpointWriter() {
        Path m = dir.resolve("sharded");
        List<TensorSpec> specs = List.of(
                new TensorSpec("model.embed_tokens.weight", DType.BF16, new long[] {8, 4}),
                new TensorSpec("model.layers.0.mlp.up_proj.weight", DType.BF16, new long[] {8, 4}),
                new TensorSpec("model.norm.weight", DType.F32, new long[] {4}));
        try (ShardedCheckpointWriter w = ShardedCheckpointWriter.create(m, specs, 80)) {
            assertThat(w.shardCount()).isEqualTo(2);   // 64 + 64 + 16 bytes, max 80: [64] [64, 16]
            for (TensorSpec s : specs) {
                float[] v = new float[(int) s.numel()];
                java.util.Arrays.fill(v, s.numel());
                w.write(s.name(), v);
            }
        }
        Json.write(m.resolve("config.json"), Json.object().put("hidden_size", 4));
        try (HfModelDir model = HfModelDir.open(m)) {
            assertThat(model.isSharded()).isTrue();
            assertThat(model.weightFiles()).hasSize(2);
            assertThat(model.tensorNames()).hasSize(3);
            assertThat(model.fileOf("model.norm.weight").getFileName().toString())
                    .isEqualTo("model-00002-of-00002.safetensors");
            assertThat(model.tensor("model.norm.weight").toFloatArray()).containsExactly(4f, 4f, 4f, 4f);
            assertThat(model.parameterCount()).isEqualTo(68);
            assertThat(model.dominantDtype()).isEqualTo(DType.BF16);
            assertThat(model.auxiliaryFiles()).isEmpty();
            assertThat(model.config().get("hidden_size").asInt()).isEqualTo(4);
        }
    }

    @Test
    void inconsistentIndexIsRejected() throws IOException {
        Path m = Files.createDirectories(dir.resolve("badindex"));
        NaiveSafetensors.write(m.resolve("model-00001-of-00001.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        Files.writeString(m.resolve("model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":4},\"weight_map\":{\"a\":\"model-00001-of-00001.safetensors\","
                        + "\"b\":\"model-00001-of-00001.safetensors\"}}");
        assertThatThrownBy(() -> HfModelDir.open(m)).hasMessageContaining("'b' is not in its shard");
        Files.writeString(m.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"a\":\"model-00002-of-00002.safetensors\"}}");
        assertThatThrownBy(() -> HfModelDir.open(m)).hasMessageContaining("does not exist");
        Files.delete(m.resolve("model.safetensors.index.json"));
        assertThatThrownBy(() -> HfModelDir.open(m)).hasMessageContaining("no model.safetensors");
    }

    @Test
    void hubCacheSnapshotOfSymlinksToBlobs() throws IOException {
        // the Hugging Face hub cache keeps files as blobs/<hash> with symlinks in snapshots/<rev>/
        Path source = writeSingleFileModel();
        Path blobs = Files.createDirectories(dir.resolve("hub/blobs"));
        Path snapshot = Files.createDirectories(dir.resolve("hub/snapshots/abc123"));
        for (String f : List.of("model.safetensors", "config.json", "tokenizer.json")) {
            Path blob = Files.copy(source.resolve(f), blobs.resolve("blob-" + f));
            Files.createSymbolicLink(snapshot.resolve(f), blob);
        }
        try (HfModelDir model = HfModelDir.open(snapshot)) {
            assertThat(model.tensor("model.norm.weight").toFloatArray()).containsExactly(1f, 1f, 1f, 1f);
            assertThat(model.auxiliaryFiles()).extracting(p -> p.getFileName().toString())
                    .containsExactly("tokenizer.json");
            Path copy = dir.resolve("copy-from-hub");
            HfModelDir.copyAuxiliaryFiles(model, copy);
            assertThat(Files.isSymbolicLink(copy.resolve("tokenizer.json"))).isFalse();
            assertThat(Files.readString(copy.resolve("tokenizer.json"))).contains("tokenizer.json");
        }
    }
}
