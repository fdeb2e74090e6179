package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Checkpoints written by TinyModels, loaded through model-io, against the reference reading the same files. */
class CheckpointLoaderTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"llama,BF16", "mistral,F16", "qwen2,BF16", "qwen2,F32"})
    void loadedCheckpointMatchesReferenceOnTheStoredWeights(String arch, DType dtype) throws Exception {
        TinySizes sizes = new TinySizes(32, 64, 2, 4, 2, 64, dtype);
        TinyModels.write(Architecture.fromName(arch), dir, sizes, 7);
        Map<String, float[]> stored = new HashMap<>();
        try (HfModelDir hf = HfModelDir.open(dir)) {
            for (String name : hf.tensorNames()) {
                stored.put(name, hf.tensor(name).toFloatArray()); // model-io's widening, not the engine's
            }
        }
        JsonNode c = JsonMapper.builder().build().readTree(Files.readString(dir.resolve("config.json")));
        NaiveLlama ref = new NaiveLlama(new NaiveLlama.Params(c.get("vocab_size").asInt(), 32, 64, 2, 4, 2, 8,
                c.get("rms_norm_eps").asDouble(), c.get("rope_theta").asDouble(),
                c.get("tie_word_embeddings").asBoolean(), arch.equals("qwen2"), null, null), stored);
        int[][] ids = LlamaModelReferenceTest.randomIds(c.get("vocab_size").asInt(), 2, 7, 3);
        try (LlamaModel model = CheckpointLoader.load(dir, EngineOptions.cpu());
                NDManager m = model.manager().newSubManager()) {
            assertThat(model.config().architecture()).isEqualTo(Architecture.fromName(arch));
            assertThat(model.config().tieWordEmbeddings()).isEqualTo(arch.equals("qwen2"));
            assertThat(model.weights().lmHead == model.weights().embedTokens).isEqualTo(arch.equals("qwen2"));
            NDArray logits = model.logits(m.create(ids), null, BlockMask.none().skipAttention(1));
            LlamaModelReferenceTest.assertClose(logits.toFloatArray(),
                    ref.logits(ids, null, Set.of(1), Set.of()), null);
        }
    }

    @org.junit.jupiter.api.Test
    void shardedCheckpointLoadsLikeTheSingleFile() throws Exception {
        Path single = dir.resolve("single");
        Path sharded = dir.resolve("sharded");
        TinyModels.write(Architecture.LLAMA, single, new TinySizes(32, 64, 2, 4, 2, 64, DType.BF16), 3);
        java.util.List<dev.amalgam.modelio.TensorSpec> specs = new java.util.ArrayList<>();
        try (HfModelDir hf = HfModelDir.open(single)) {
            for (var info : hf.weightFiles().get(0).tensorInfos()) {
                specs.add(new dev.amalgam.modelio.TensorSpec(info.name(), info.dtype(), info.shape()));
            }
            try (var w = dev.amalgam.modelio.ShardedCheckpointWriter.create(sharded, specs, 20_000)) {
                for (var spec : specs) {
                    w.writeRaw(spec.name(), hf.tensor(spec.name()).rawBytes());
                }
                assertThat(w.shardCount()).isGreaterThan(2);
            }
            HfModelDir.copyAuxiliaryFiles(hf, sharded);
        }
        Files.copy(single.resolve("config.json"), sharded.resolve("config.json"));
        int[][] ids = {{256, 5, 77, 3}};
        try (LlamaModel a = CheckpointLoader.load(single, EngineOptions.cpu());
                LlamaModel b = CheckpointLoader.load(sharded, EngineOptions.cpu());
                NDManager m = a.manager().newSubManager()) {
            assertThat(b.logits(m.create(ids), null, BlockMask.none()).toFloatArray())
                    .containsExactly(a.logits(m.create(ids), null, BlockMask.none()).toFloatArray());
        }
    }

    @ParameterizedTest
    @CsvSource({"GPTNeoXForCausalLM,unsupported architecture 'GPTNeoXForCausalLM'",
        "LlamaForCausalLM,unsupported hidden_act 'gelu'"})
    void unsupportedConfigsFailClearly(String cls, String message) throws Exception {
        TinyModels.write(Architecture.LLAMA, dir, TinySizes.defaults(), 1);
        String config = Files.readString(dir.resolve("config.json")).replace("LlamaForCausalLM", cls);
        if (cls.startsWith("Llama")) {
            config = config.replace("\"silu\"", "\"gelu\"");
        } else {
            config = config.replace("\"llama\"", "\"gpt_neox\"");
        }
        Files.writeString(dir.resolve("config.json"), config);
        assertThatThrownBy(() -> CheckpointLoader.load(dir, EngineOptions.cpu()))
                .isInstanceOf(UnsupportedModelException.class).hasMessageContaining(message);
    }

    @ParameterizedTest
    @CsvSource({"model.layers.1.mlp.up_proj.weight"})
    void missingTensorIsNamed(String name) throws Exception {
        TinyModels.write(Architecture.LLAMA, dir, TinySizes.defaults(), 1);
        // Declare one more layer than stored: its first tensor is missing.
        String config = Files.readString(dir.resolve("config.json"))
                .replace("\"num_hidden_layers\" : 2", "\"num_hidden_layers\" : 3");
        Files.writeString(dir.resolve("config.json"), config);
        assertThatThrownBy(() -> CheckpointLoader.load(dir, EngineOptions.cpu()))
                .isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("model.layers.2.input_layernorm.weight");
    }
}
