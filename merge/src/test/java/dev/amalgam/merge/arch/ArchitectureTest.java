package dev.amalgam.merge.arch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ArchitectureTest {

    @Test
    void llamaFamilyComesFromTheDataFile() {
        Architecture a = Architecture.forName("Qwen2ForCausalLM").orElseThrow();
        assertThat(a.name()).isEqualTo("llama");
        assertThat(Architecture.forName("GPT2LMHeadModel")).isEmpty();
        assertThat(Architecture.supported()).contains("LlamaForCausalLM", "MistralForCausalLM");
        assertThat(a.layerOf("model.layers.12.self_attn.q_proj.bias")).isEqualTo(12);
        assertThat(a.suffixOf("model.layers.12.self_attn.q_proj.bias")).isEqualTo("self_attn.q_proj.bias");
        assertThat(a.layerOf("model.embed_tokens.weight")).isEqualTo(-1);
        assertThat(a.layerOf("model.layers.x.mlp.up_proj.weight")).isEqualTo(-1);
        assertThat(a.layerPrefix(3)).isEqualTo("model.layers.3.");
        assertThat(a.isEmbedding("lm_head.weight")).isTrue();
        assertThat(a.isEmbedding("model.norm.weight")).isFalse();
    }
}
