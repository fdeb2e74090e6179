package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Backward reads only memory PyTorch owns: the arrays autograd keeps from the forward (token ids of the embedding,
 * scalars of mul and div, the response weights of the log-prob sums) survive the JVM freeing unreachable direct
 * buffers between forward and backward.
 */
class BackwardAfterCollectionTest {

    private static final List<int[]> PROMPTS = List.of(new int[] {5, 17, 3}, new int[] {8, 1});
    private static final List<int[]> RESPONSES = List.of(new int[] {40, 2, 9, 11}, new int[] {30});

    @Test
    void gradientsDoNotChangeWhenDirectBuffersAreFreedBeforeBackward() {
        for (TinyFixture f : List.of(TinyFixture.llama(), TinyFixture.qwen2())) {
            List<float[]> undisturbed = gradients(f, false);
            List<float[]> freed = gradients(f, true);
            for (int i = 0; i < undisturbed.size(); i++) {
                assertThat(freed.get(i)).as("gradient %d of %s", i, f.config.architecture())
                        .containsExactly(undisturbed.get(i));
            }
        }
    }

    private static List<float[]> gradients(TinyFixture f, boolean freeBeforeBackward) {
        try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
            model.weights().setRequiresGradient(true);
            try (GradientCollector gc = DjlRuntime.engine().newGradientCollector()) {
                NDArray total = LogProbs.sequenceLogProbs(model, PROMPTS, RESPONSES, BlockMask.none(), m).sum();
                if (freeBeforeBackward) {
                    DirectBuffers.freeUnreachable();
                }
                gc.backward(total);
            }
            List<float[]> out = new ArrayList<>();
            for (Map.Entry<String, NDArray> e : model.weights().namedParameters().entrySet()) {
                out.add(e.getValue().getGradient().toFloatArray());
            }
            return out;
        }
    }
}
