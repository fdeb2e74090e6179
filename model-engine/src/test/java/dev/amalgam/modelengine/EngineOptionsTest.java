package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Test;

class EngineOptionsTest {

    @Test
    void parsesDeviceSettings() {
        assertThat(EngineOptions.parse("cpu")).isEqualTo(EngineOptions.cpu());
        assertThat(EngineOptions.parse("gpu")).isEqualTo(new EngineOptions(Device.gpu(0), DataType.FLOAT16));
        assertThat(EngineOptions.parse("cuda:1/fp32")).isEqualTo(new EngineOptions(Device.gpu(1), DataType.FLOAT32));
        assertThat(EngineOptions.parse(" GPU:2/FP16 ")).isEqualTo(EngineOptions.gpuFp16(2));
        assertThatThrownBy(() -> EngineOptions.parse("tpu")).hasMessageContaining("unknown device 'tpu'");
        assertThatThrownBy(() -> EngineOptions.parse("cpu/int8")).hasMessageContaining("unknown precision 'int8'");
        assertThatThrownBy(() -> new EngineOptions(Device.cpu(), DataType.INT8)).hasMessageContaining("FLOAT32 or FLOAT16");
    }

    @Test
    void architectureNames() {
        assertThat(Architecture.fromName("Qwen2")).isEqualTo(Architecture.QWEN2);
        assertThat(Architecture.MISTRAL.className(ModelHead.SEQUENCE_CLASSIFICATION))
                .isEqualTo("MistralForSequenceClassification");
        assertThatThrownBy(() -> Architecture.fromName("gemma")).isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("'gemma'").hasMessageContaining("llama");
    }
}
