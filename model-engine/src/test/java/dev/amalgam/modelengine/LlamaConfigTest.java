package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.json.JsonMapper;

class LlamaConfigTest {

    private static LlamaConfig parse(String json) {
        return LlamaConfig.fromJson(JsonMapper.builder().build().readTree(json));
    }

    @Test
    void llama31ConfigWithGqaRopeScalingAndEosList() {
        LlamaConfig c = parse("""
                {"architectures":["LlamaForCausalLM"],"model_type":"llama","vocab_size":128256,"hidden_size":4096,
                 "intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,
                 "rms_norm_eps":1e-05,"rope_theta":500000.0,"max_position_embeddings":131072,"hidden_act":"silu",
                 "rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
                 "original_max_position_embeddings":8192,"rope_type":"llama3"},"tie_word_embeddings":false,
                 "attention_bias":false,"mlp_bias":false,"bos_token_id":128000,"eos_token_id":[128001,128008,128009],
                 "torch_dtype":"bfloat16"}""");
        assertThat(c.architecture()).isEqualTo(Architecture.LLAMA);
        assertThat(c.head()).isEqualTo(ModelHead.CAUSAL_LM);
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.groupSize()).isEqualTo(4);
        assertThat(c.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(c.ropeScaling()).isEqualTo(RopeScaling.llama3(8, 1, 4, 8192));
        assertThat(c.qkvBias()).isFalse();
        assertThat(c.slidingWindow()).isNull();
    }

    @Test
    void qwen2HasQkvBiasButNoOutputBiasAndMistralKeepsItsWindow() {
        LlamaConfig q = parse("""
                {"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2","vocab_size":151936,"hidden_size":896,
                 "intermediate_size":4864,"num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,
                 "rms_norm_eps":1e-06,"rope_theta":1000000.0,"tie_word_embeddings":true,"use_sliding_window":false,
                 "sliding_window":32768,"max_window_layers":21,"eos_token_id":151643}""");
        assertThat(q.qkvBias()).isTrue();
        assertThat(q.oBias()).isFalse();
        assertThat(q.tieWordEmbeddings()).isTrue();
        assertThat(q.slidingWindow()).isNull(); // use_sliding_window false: the window is not applied
        assertThat(q.headDim()).isEqualTo(64);
        LlamaConfig m = parse("""
                {"architectures":["MistralForCausalLM"],"model_type":"mistral","vocab_size":32000,"hidden_size":4096,
                 "intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,
                 "sliding_window":4096,"rope_theta":10000.0,"rms_norm_eps":1e-05}""");
        assertThat(m.slidingWindow()).isEqualTo(4096);
    }

    @Test
    void sequenceClassificationHead() {
        LlamaConfig c = parse("""
                {"architectures":["LlamaForSequenceClassification"],"model_type":"llama","vocab_size":10,
                 "hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2,
                 "id2label":{"0":"LABEL_0"},"pad_token_id":0}""");
        assertThat(c.head()).isEqualTo(ModelHead.SEQUENCE_CLASSIFICATION);
        assertThat(c.numLabels()).isEqualTo(1);
        assertThat(c.padTokenId()).isZero();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4.0}|unsupported rope_scaling type 'yarn'",
        "\"num_key_value_heads\":3|not a multiple of num_key_value_heads 3",
        "\"hidden_act\":\"gelu_pytorch_tanh\"|unsupported hidden_act",
        "\"hidden_size\":\"big\"|'hidden_size' must be an integer",
        "\"model_type\":\"qwen2\",\"use_sliding_window\":true|use_sliding_window=true is not supported"})
    void unsupportedValuesAreNamed(String extra, String message) {
        String json = "{\"model_type\":\"llama\",\"vocab_size\":10,\"hidden_size\":8,\"intermediate_size\":16,"
                + "\"num_hidden_layers\":1,\"num_attention_heads\":2," + extra + "}";
        // later keys win in Jackson trees, so extra overrides the defaults above
        assertThatThrownBy(() -> parse(json)).isInstanceOf(UnsupportedModelException.class).hasMessageContaining(message);
    }

    @Test
    void llama3ScalingMatchesHandComputedBands() {
        RopeScaling s = RopeScaling.llama3(8, 1, 4, 8192);
        double high = 2 * Math.PI / 1024; // wavelength 1024 < 8192/4: unchanged
        double low = 2 * Math.PI / 16384; // wavelength 16384 > 8192/1: divided by 8
        double mid = 2 * Math.PI / 4096; // smooth = (8192/4096 - 1) / 3 = 1/3 -> (2/3)/8 + 1/3 = 5/12
        double[] out = s.apply(new double[] {high, low, mid});
        assertThat(out[0]).isEqualTo(high);
        assertThat(out[1]).isCloseTo(low / 8, within(1e-15));
        assertThat(out[2]).isCloseTo(mid * 5 / 12, within(1e-15));
    }
}
