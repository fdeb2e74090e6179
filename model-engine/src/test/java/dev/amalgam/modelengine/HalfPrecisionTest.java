package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.Dtypes;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Tensor;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FP16 path the GPU uses, exercised on the CPU (slow there, but the same code). */
class HalfPrecisionTest {

    @TempDir
    Path dir;

    @Test
    void bf16WeightsAreNarrowedToFp16WithRoundToNearestEven() {
        TinyModels.write(Architecture.LLAMA, dir, TinySizes.defaults(), 2);
        try (HfModelDir hf = HfModelDir.open(dir); NDManager m = DjlRuntime.newManager(Device.cpu())) {
            Tensor t = hf.tensor("model.layers.0.mlp.up_proj.weight");
            NDArray a = CheckpointLoader.toNDArray(t, t.shape(), m, DataType.FLOAT16);
            assertThat(a.getDataType()).isEqualTo(DataType.FLOAT16);
            float[] widened = t.toFloatArray();
            float[] half = a.toType(DataType.FLOAT32, false).toFloatArray();
            for (int i = 0; i < widened.length; i++) {
                assertThat(half[i]).isEqualTo(Dtypes.f16ToFloat(Dtypes.floatToF16(widened[i])));
            }
        }
    }

    @Test
    void fp16ForwardStaysCloseToFp32() {
        TinyModels.write(Architecture.QWEN2, dir, new TinySizes(64, 128, 2, 4, 2, 64, DType.BF16), 4);
        int[][] ids = {{256, 72, 101, 108, 108, 111}};
        try (LlamaModel fp32 = CheckpointLoader.load(dir, EngineOptions.cpu());
                LlamaModel fp16 = CheckpointLoader.load(dir, new EngineOptions(Device.cpu(), DataType.FLOAT16));
                NDManager m = fp32.manager().newSubManager()) {
            float[] a = fp32.logits(m.create(ids), null, BlockMask.none()).toFloatArray();
            NDArray half = fp16.logits(m.create(ids), null, BlockMask.none().skipMlp(0));
            assertThat(half.getDataType()).isEqualTo(DataType.FLOAT32); // logits always come back in FP32
            float[] b = fp16.logits(m.create(ids), null, BlockMask.none()).toFloatArray();
            double scale = 0;
            double worst = 0;
            for (int i = 0; i < a.length; i++) {
                scale = Math.max(scale, Math.abs(a[i]));
                worst = Math.max(worst, Math.abs(a[i] - b[i]));
            }
            assertThat(worst / scale).as("FP16 vs FP32 relative logit error").isLessThan(1e-2).isGreaterThan(0);
        }
    }
}
