package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.types.DataType;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelMemoryTest {

    @TempDir
    Path tmp;

    @Test
    void weightBytesCountEveryElementInTheComputeType() {
        Path dir = TinyModels.write(Architecture.LLAMA, tmp.resolve("m"), new TinySizes(32, 64, 2, 4, 2, 64, DType.BF16), 3);
        // embed V x 32 (V: config.json's vocab_size); per layer q 32x32, k and v 16x32 (2 KV heads of 8),
        // o 32x32, gate/up/down 64x32, two norms of 32; final norm 32; lm_head V x 32
        try (HfModelDir hf = HfModelDir.open(dir)) {
            long v = hf.config().get("vocab_size").asLong();
            long perLayer = 1024 + 512 + 512 + 1024 + 3 * 2048 + 64;
            long elements = v * 32 + 2 * perLayer + 32 + v * 32;
            assertThat(ModelMemory.weightBytes(hf, DataType.FLOAT32)).isEqualTo(4 * elements);
            assertThat(ModelMemory.weightBytes(hf, DataType.FLOAT16)).isEqualTo(2 * elements);
        }
    }

    @Test
    void aModelLargerThanTheAvailableMemoryFailsNamingBothSizes() {
        assertThatThrownBy(() -> ModelMemory.check("llama-70b", 280L << 30, DataType.FLOAT32, OptionalLong.of(20L << 30)))
                .isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("model llama-70b needs 280.00 GiB for its weights in FP32")
                .hasMessageContaining("only 20.00 GiB of memory available");
        ModelMemory.check("small", 1L << 30, DataType.FLOAT32, OptionalLong.of(2L << 30));
        ModelMemory.check("unknown", Long.MAX_VALUE, DataType.FLOAT32, OptionalLong.empty());
    }

    @Test
    void availableMemoryIsReadFromMeminfoAndTheCgroupLimit() {
        assertThat(ModelMemory.memAvailable("MemTotal:       24000000 kB\nMemAvailable:   1000 kB\n"))
                .hasValue(1000L * 1024);
        assertThat(ModelMemory.memAvailable("MemTotal: 1 kB\n")).isEmpty();
        assertThat(ModelMemory.cgroupRoom("8589934592\n", "1073741824\n")).hasValue(7L << 30);
        assertThat(ModelMemory.cgroupRoom("max\n", "5")).isEmpty();
        assertThat(ModelMemory.cgroupRoom("9223372036854771712", "5")).isEmpty(); // v1's "unlimited"
        assertThat(ModelMemory.cgroupRoom(null, "5")).isEmpty();
    }

    @Test
    void loadingChecksBeforeReadingAnyWeight() {
        Path dir = TinyModels.write(Architecture.LLAMA, tmp.resolve("m"), new TinySizes(32, 64, 2, 4, 2, 64, DType.BF16), 3);
        // this machine has more than 100 KB available, so the tiny model loads
        try (LlamaModel m = CheckpointLoader.load(dir, EngineOptions.cpu())) {
            assertThat(m).isNotNull();
        }
        assertThat(ModelMemory.availableBytes()).isPresent(); // Linux: /proc/meminfo
    }
}
