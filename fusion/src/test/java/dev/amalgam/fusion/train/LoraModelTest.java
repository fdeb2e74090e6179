package dev.amalgam.fusion.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraModelTest {

    @TempDir
    Path dir;

    private static final long[][] IDS = {{3, 70, 71, 72, 9, 100}};

    @Test
    void startsAsTheBaseMergesExactlyAndTrainsOnlyTheAdapters() {
        Path modelDir = TinyData.qwen2(dir, 8);
        LoraSettings settings = new LoraSettings(2, 4, List.of("q_proj", "up_proj"));
        try (LoraModel lora = new LoraModel(CheckpointLoader.load(modelDir, EngineOptions.cpu()), settings, 1);
                LlamaModel plain = CheckpointLoader.load(modelDir, EngineOptions.cpu());
                NDManager m = plain.manager().newSubManager()) {
            // 2 layers x (q_proj A [2,32] + B [32,2], up_proj A [2,32] + B [64,2]) = 2 x (128 + 192) parameters.
            assertThat(lora.parameters()).hasSize(8);
            assertThat(lora.parameters().stream().mapToLong(p -> p.master().size()).sum()).isEqualTo(640);
            // B starts at zero: the adapted model is the base model.
            float[] base = logits(plain, m);
            assertThat(maxAbsDiff(logitsOf(lora, m), base)).isLessThan(1e-6);
            // Random B: the view equals a plain model whose weights are W0 + (alpha / r) B A, computed here naively.
            Random r = new Random(2);
            for (TrainableParameter p : lora.parameters()) {
                if (p.name().endsWith("lora_B.weight")) {
                    float[] v = new float[(int) p.master().size()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) r.nextGaussian() * 0.5f;
                    }
                    p.master().set(new NDIndex("..."), m.create(v, p.master().getShape()));
                }
            }
            lora.afterUpdate();
            for (String name : List.of("model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.q_proj.weight",
                    "model.layers.0.mlp.up_proj.weight", "model.layers.1.mlp.up_proj.weight")) {
                float[] expected = naiveMerge(lora, name, 2.0);
                try (NDManager s = m.newSubManager()) {
                    assertThat(maxAbsDiff(lora.exportWeight(name, s).toFloatArray(), expected)).isLessThan(1e-5);
                }
                NDArray w = plain.weights().namedParameters().get(name);
                w.set(new NDIndex("..."), m.create(expected, w.getShape()));
            }
            float[] merged = logits(plain, m);
            assertThat(maxAbsDiff(merged, base)).isGreaterThan(0.1);
            assertThat(maxAbsDiff(logitsOf(lora, m), merged)).isLessThan(2e-4);
            // Gradients reach A and B; the base stays frozen.
            try (NDManager s = m.newSubManager(); GradientCollector gc = DjlRuntime.engine().newGradientCollector()) {
                LlamaModel view = lora.forwardModel(s);
                // The view holds one merged copy per adapted matrix (4) and its rotary table, no B A products.
                assertThat(view.manager().getManagedArrays()).hasSize(5);
                gc.backward(view.logits(s.create(IDS), null, BlockMask.none()).square().mean());
                lora.release(view);
            }
            for (TrainableParameter p : lora.parameters()) {
                assertThat(p.value().getGradient().abs().sum().getFloat()).as(p.name()).isGreaterThan(0f);
            }
            assertThat(lora.base().weights().namedParameters().get("model.layers.0.self_attn.q_proj.weight")
                    .hasGradient()).isFalse();
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    private static float[] naiveMerge(LoraModel lora, String name, double scaling) {
        String stem = name.substring(0, name.length() - ".weight".length());
        float[] w0 = lora.base().weights().namedParameters().get(name).toFloatArray();
        Shape shape = lora.base().weights().namedParameters().get(name).getShape();
        NDArray a = find(lora, stem + ".lora_A.weight");
        NDArray b = find(lora, stem + ".lora_B.weight");
        float[] av = a.toFloatArray();
        float[] bv = b.toFloatArray();
        int out = (int) shape.get(0);
        int in = (int) shape.get(1);
        int rank = (int) a.getShape().get(0);
        float[] merged = w0.clone();
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double d = 0;
                for (int k = 0; k < rank; k++) {
                    d += bv[o * rank + k] * av[k * in + i];
                }
                merged[o * in + i] += (float) (scaling * d);
            }
        }
        return merged;
    }

    private static NDArray find(LoraModel lora, String name) {
        return lora.parameters().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow().master();
    }

    private static float[] logits(LlamaModel model, NDManager m) {
        try (NDManager s = m.newSubManager()) {
            return model.logits(s.create(IDS), null, BlockMask.none()).toFloatArray();
        }
    }

    private static float[] logitsOf(LoraModel lora, NDManager m) {
        try (NDManager s = m.newSubManager()) {
            LlamaModel view = lora.forwardModel(s);
            try {
                return view.logits(s.create(IDS), null, BlockMask.none()).toFloatArray();
            } finally {
                lora.release(view);
            }
        }
    }
}
