package dev.amalgam.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.method.BasePolicy;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.ParameterDef;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.TensorSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every registered method through the whole pipeline on a tiny synthetic model. */
class AllMethodsEndToEndTest {

    @TempDir
    Path tmp;

    private final TinyLlama tiny = TinyLlama.small().withDtype(DType.F32);

    static Stream<String> methods() {
        return MergeMethods.names().stream();
    }

    /** A config with base_model when the method uses one, and as many other models as it accepts. */
    private static String config(MergeMethod m, List<String> others) {
        boolean needsWeight = m.modelParameters().stream().anyMatch(d -> d.name().equals("weight") && d.required());
        StringBuilder y = new StringBuilder("merge_method: " + m.name() + "\n");
        if (m.basePolicy() != BasePolicy.IGNORED) {
            y.append("base_model: base\n");
        }
        y.append("models:\n");
        for (String o : others) {
            y.append("  - model: ").append(o).append('\n');
            if (needsWeight) {
                y.append("    parameters: {weight: 0.5}\n");
            }
        }
        List<String> global = new ArrayList<>();
        for (ParameterDef d : m.parameters()) {
            if (d.required()) {
                global.add(d.name() + ": " + (m.name().equals("nearswap") ? "0.001" : "0.3"));
            }
        }
        if (!global.isEmpty()) {
            y.append("parameters: {").append(String.join(", ", global)).append("}\n");
        }
        return y.toString();
    }

    private static List<String> others(MergeMethod m) {
        for (int k = 2; k >= 1; k--) {
            List<String> names = k == 2 ? List.of("x", "y") : List.of("x");
            if (m.checkInputs(k, m.basePolicy() != BasePolicy.IGNORED).isEmpty()) {
                return names;
            }
        }
        throw new AssertionError(m.name());
    }

    @ParameterizedTest
    @MethodSource("methods")
    void mergingIdenticalModelsGivesThatModelBack(String name) {
        MergeMethod m = MergeMethods.get(name);
        for (String dir : List.of("base", "x", "y")) {
            tiny.write(tmp.resolve(dir), 1);
        }
        MergeResult r = new MergeRunner().run(MergeConfig.parseYaml(config(m, others(m))), ModelResolver.paths(tmp),
                tmp.resolve("out"), MergeOptions.defaults().withThreads(2), dev.amalgam.job.Progress.NONE);
        assertThat(r.tensors()).isEqualTo(tiny.specs().size());
        try (HfModelDir in = HfModelDir.open(tmp.resolve("base")); HfModelDir out = HfModelDir.open(tmp.resolve("out"))) {
            for (TensorSpec spec : tiny.specs()) {
                float[] a = in.tensor(spec.name()).toFloatArray();
                float[] b = out.tensor(spec.name()).toFloatArray();
                assertThat(out.info(spec.name()).shape()).isEqualTo(spec.shape());
                for (int i = 0; i < a.length; i++) {
                    assertThat(b[i]).as(name + " " + spec.name() + "[" + i + "]").isCloseTo(a[i], within(1e-5f));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("methods")
    void mergingDifferentFineTunesGivesFiniteWeightsOfTheRightShape(String name) {
        MergeMethod m = MergeMethods.get(name);
        tiny.write(tmp.resolve("base"), 1);
        tiny.writeVariant(tmp.resolve("x"), 1, 2, 0.02f);
        tiny.writeVariant(tmp.resolve("y"), 1, 3, 0.02f);
        new MergeRunner().run(MergeConfig.parseYaml(config(m, others(m))), ModelResolver.paths(tmp),
                tmp.resolve("out"), MergeOptions.defaults().withThreads(2), dev.amalgam.job.Progress.NONE);
        try (HfModelDir out = HfModelDir.open(tmp.resolve("out"))) {
            assertThat(out.tensorNames()).hasSize(tiny.specs().size());
            for (TensorSpec spec : tiny.specs()) {
                for (float v : out.tensor(spec.name()).toFloatArray()) {
                    assertThat(Float.isFinite(v)).as(name + " " + spec.name()).isTrue();
                }
            }
        }
    }
}
