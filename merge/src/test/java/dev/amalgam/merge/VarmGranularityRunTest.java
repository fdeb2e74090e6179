package dev.amalgam.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VaRM at layer granularity through the whole merge: the statistics pass before the tensors are merged shares one
 * ratio over all of a layer's tensors, checked against the ratio computed here from the files.
 */
class VarmGranularityRunTest {

    private static final String Q = "model.layers.1.self_attn.q_proj.weight";

    @TempDir
    Path tmp;

    private final TinyLlama tiny = TinyLlama.small().withDtype(DType.F32);

    /** sum over layer 1's tensors of mean((x - pivot)^2), read from the files. */
    private static double layerVariation(Path pivotDir, Path targetDir) {
        try (HfModelDir p = HfModelDir.open(pivotDir); HfModelDir t = HfModelDir.open(targetDir)) {
            double v = 0;
            for (String name : p.tensorNames()) {
                if (!name.contains(".layers.1.")) {
                    continue;
                }
                float[] a = p.tensor(name).toFloatArray();
                float[] b = t.tensor(name).toFloatArray();
                double s = 0;
                for (int i = 0; i < a.length; i++) {
                    s += ((double) b[i] - a[i]) * ((double) b[i] - a[i]);
                }
                v += s / a.length;
            }
            return v;
        }
    }

    @Test
    void layerGranularityWeighsEveryTensorOfALayerByTheLayersSummedVariation() {
        tiny.write(tmp.resolve("pivot"), 1);
        tiny.writeVariant(tmp.resolve("t1"), 1, 2, 0.01f);
        tiny.writeVariant(tmp.resolve("t2"), 1, 3, 0.05f);
        MergeResult r = new MergeRunner().run(MergeConfig.parseYaml("""
                merge_method: varm
                base_model: pivot
                parameters: {granularity: layer}
                models: [{model: t1}, {model: t2}]
                dtype: float32
                """), ModelResolver.paths(tmp), tmp.resolve("out"), MergeOptions.defaults().withThreads(2),
                dev.amalgam.job.Progress.NONE);
        double v1 = layerVariation(tmp.resolve("pivot"), tmp.resolve("t1"));
        double v2 = layerVariation(tmp.resolve("pivot"), tmp.resolve("t2"));
        double w1 = v1 / (v1 + v2);
        assertThat(w1).isBetween(0.01, 0.2); // the smaller perturbation gets the smaller share
        try (HfModelDir a = HfModelDir.open(tmp.resolve("t1")); HfModelDir b = HfModelDir.open(tmp.resolve("t2"));
             HfModelDir m = HfModelDir.open(r.outDir())) {
            float[] x = a.tensor(Q).toFloatArray();
            float[] y = b.tensor(Q).toFloatArray();
            float[] z = m.tensor(Q).toFloatArray();
            for (int i = 0; i < z.length; i++) {
                assertThat(z[i]).isCloseTo((float) (w1 * x[i] + (1 - w1) * y[i]), within(1e-5f));
            }
        }
    }

    @Test
    void anUnknownGranularityIsAProblemNamingTheChoices() {
        MergeConfigException e = catchThrowableOfType(MergeConfigException.class, () -> MergeConfig.parseYaml("""
                merge_method: varm
                base_model: pivot
                parameters: {granularity: blocks}
                models: [{model: t1}]
                """));
        assertThat(e.problems()).anySatisfy(p -> assertThat(p).contains(
                "parameter 'granularity' = 'blocks' is not one of parameter, element, module, layer, model"));
    }
}
