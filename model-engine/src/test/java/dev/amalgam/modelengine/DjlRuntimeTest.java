package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class DjlRuntimeTest {

    @Test
    void pytorchRunsOfflineFromClasspathNatives() {
        try (NDManager manager = DjlRuntime.newManager(Device.cpu())) {
            NDArray a = manager.create(new float[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(2, 2));
            // [[1,2],[3,4]] @ [[1,2],[3,4]] = [[7,10],[15,22]]
            assertThat(a.matMul(a).toFloatArray()).containsExactly(7, 10, 15, 22);
        }
        assertThat(System.getProperty("ai.djl.offline")).isEqualTo("true");
    }
}
