package dev.amalgam.pruning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.json.JsonMapper;

/** The parameter-ratio arithmetic of docs/algorithms.md, section 2. */
class ParameterCountsTest {

    /** Llama-2-7B's config.json as published. */
    static final String LLAMA2_7B = """
            {"architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
             "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 11008,
             "max_position_embeddings": 4096, "model_type": "llama", "num_attention_heads": 32,
             "num_hidden_layers": 32, "num_key_value_heads": 32, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
             "rope_scaling": null, "tie_word_embeddings": false, "torch_dtype": "float16",
             "transformers_version": "4.31.0.dev0", "use_cache": true, "vocab_size": 32000}""";

    @TempDir
    Path tmp;

    @Test
    void llama2With12AttentionAnd5MlpBlocksRemovedIs21Point99Percent() {
        ParameterCounts p = ParameterCounts.of(LlamaConfig.fromJson(JsonMapper.builder().build().readTree(LLAMA2_7B)));
        assertThat(p.attentionBlock()).isEqualTo(67_112_960L); // 4 * 4096^2 + 4096
        assertThat(p.mlpBlock()).isEqualTo(135_270_400L); // 3 * 4096 * 11008 + 4096
        assertThat(p.total()).isEqualTo(6_738_415_616L);
        List<Block> removed = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            removed.add(Block.attention(20 + i % 12));
        }
        for (int i = 0; i < 5; i++) {
            removed.add(Block.mlp(25 + i));
        }
        // (12 * 67,112,960 + 5 * 135,270,400) / 6,738,415,616 = 1,481,707,520 / 6,738,415,616
        assertThat(p.ratio(removed)).isEqualTo(1.0 - 5_256_708_096.0 / 6_738_415_616.0);
        assertThat(String.format(Locale.ROOT, "%.2f %%", 100 * p.ratio(removed))).isEqualTo("21.99 %");
        assertThat(p.remaining(List.of())).isEqualTo(p.total());
    }

    /** The config arithmetic equals the number of stored scalars (GQA, biases, tied embeddings). */
    @ParameterizedTest
    @EnumSource(Architecture.class)
    void totalEqualsTheCheckpointsTensorSizes(Architecture arch) {
        Path dir = Tiny.model(arch, tmp.resolve(arch.name()), 3, DType.BF16, 1);
        try (HfModelDir hf = HfModelDir.open(dir)) {
            ParameterCounts p = ParameterCounts.of(LlamaConfig.fromJson(hf.config()));
            assertThat(p.total()).isEqualTo(hf.parameterCount());
            long attention = 0;
            long mlp = 0;
            for (String name : hf.tensorNames()) {
                if (name.startsWith("model.layers.1.")) {
                    String rest = name.substring("model.layers.1.".length());
                    if (PrunedCheckpoint.blockOf(rest) == BlockType.ATTENTION) {
                        attention += hf.info(name).numel();
                    } else {
                        mlp += hf.info(name).numel();
                    }
                }
            }
            assertThat(p.attentionBlock()).isEqualTo(attention);
            assertThat(p.mlpBlock()).isEqualTo(mlp);
        }
    }
}
