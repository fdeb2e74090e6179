package dev.amalgam.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.ShardedCheckpointWriter;
import dev.amalgam.modelio.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mergekit's inputs beyond a safetensors directory: {@code model+lora} (a PEFT adapter applied in FP32 before the
 * merge, as a model and as the base), {@code model@revision} and the dict form of a reference, and
 * {@code pytorch_model.bin} checkpoints. Expected tensors come from a naive matmul written here.
 */
class LoraAndBinInputsTest {

    @TempDir
    Path tmp;

    private final TinyLlama tiny = TinyLlama.small();
    private static final String Q = "model.layers.1.self_attn.q_proj.weight";
    private static final String V = "model.layers.0.self_attn.v_proj.weight";

    private MergeResult merge(String yaml) {
        return new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(tmp), tmp.resolve("out"),
                MergeOptions.defaults().withThreads(2), dev.amalgam.job.Progress.NONE);
    }

    private static float[] read(Path dir, String tensor) {
        try (HfModelDir m = HfModelDir.open(dir)) {
            return m.tensor(tensor).toFloatArray();
        }
    }

    private static long[] shape(Path dir, String tensor) {
        try (HfModelDir m = HfModelDir.open(dir)) {
            return m.info(tensor).shape();
        }
    }

    /** The factors of one adapted module: A [r, in], B [out, r]. */
    private record Factors(String weight, float[] a, float[] b, int out, int in) {
    }

    /** Writes a PEFT adapter (rank r, alpha) on q_proj of layer 1 and v_proj of layer 0 of {@code model}. */
    private List<Factors> writeAdapter(Path model, Path adapter, int r, double alpha, boolean rslora) throws IOException {
        Files.createDirectories(adapter);
        Files.writeString(adapter.resolve("adapter_config.json"), "{\"peft_type\":\"LORA\",\"r\":" + r
                + ",\"lora_alpha\":" + alpha + ",\"use_rslora\":" + rslora + ",\"fan_in_fan_out\":false,"
                + "\"target_modules\":[\"q_proj\",\"v_proj\"],\"base_model_name_or_path\":\"base\",\"bias\":\"none\"}");
        Random random = new Random(3);
        List<Factors> factors = new ArrayList<>();
        List<TensorSpec> specs = new ArrayList<>();
        for (String w : List.of(Q, V)) {
            long[] s = shape(model, w);
            float[] a = new float[r * (int) s[1]];
            float[] b = new float[(int) s[0] * r];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) random.nextGaussian() * 0.1f;
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) random.nextGaussian() * 0.1f;
            }
            String module = "base_model.model." + w.substring(0, w.length() - ".weight".length());
            specs.add(new TensorSpec(module + ".lora_A.weight", DType.F32, new long[] {r, s[1]}));
            specs.add(new TensorSpec(module + ".lora_B.weight", DType.F32, new long[] {s[0], r}));
            factors.add(new Factors(w, a, b, (int) s[0], (int) s[1]));
        }
        Path staging = tmp.resolve("staging-" + adapter.getFileName());
        try (ShardedCheckpointWriter writer = ShardedCheckpointWriter.create(staging, specs, Long.MAX_VALUE)) {
            for (int i = 0; i < factors.size(); i++) {
                writer.write(specs.get(2 * i).name(), factors.get(i).a());
                writer.write(specs.get(2 * i + 1).name(), factors.get(i).b());
            }
        }
        Files.move(staging.resolve(ShardedCheckpointWriter.SINGLE_FILE), adapter.resolve("adapter_model.safetensors"));
        return factors;
    }

    /** Naive W + scale * B @ A, in FP32 with the rank summed in order. */
    private static float[] applied(float[] w, Factors f, int r, float scale) {
        float[] res = w.clone();
        for (int i = 0; i < f.out(); i++) {
            for (int j = 0; j < f.in(); j++) {
                float s = 0f;
                for (int k = 0; k < r; k++) {
                    s += f.b()[i * r + k] * f.a()[k * f.in() + j];
                }
                res[i * f.in() + j] += scale * s;
            }
        }
        return res;
    }

    @Test
    void modelPlusLoraIsMergedWithTheAdapterAppliedInFp32() throws IOException {
        tiny.writeVariant(tmp.resolve("a"), 1, 10, 0.02f);
        tiny.writeVariant(tmp.resolve("b"), 1, 11, 0.02f);
        List<Factors> factors = writeAdapter(tmp.resolve("a"), tmp.resolve("lora"), 4, 8, false);
        MergeResult r = merge("""
                merge_method: linear
                models:
                  - model: a+lora
                    parameters: {weight: 0.25}
                  - model: b
                    parameters: {weight: 0.75}
                dtype: float32
                """);
        for (Factors f : factors) {
            float[] a = applied(read(tmp.resolve("a"), f.weight()), f, 4, 2f); // alpha / r = 8 / 4
            float[] b = read(tmp.resolve("b"), f.weight());
            float[] out = read(tmp.resolve("out"), f.weight());
            for (int i = 0; i < out.length; i++) {
                assertThat(out[i]).isEqualTo((0.25f * a[i] + 0.75f * b[i]) / 1.0f);
            }
        }
        // an unadapted tensor is the plain weighted mean
        String other = "model.layers.0.mlp.up_proj.weight";
        float[] a = read(tmp.resolve("a"), other);
        float[] b = read(tmp.resolve("b"), other);
        float[] out = read(tmp.resolve("out"), other);
        for (int i = 0; i < out.length; i++) {
            assertThat(out[i]).isEqualTo((0.25f * a[i] + 0.75f * b[i]) / 1.0f);
        }
        assertThat(r.inputModels()).containsExactly("a+lora", "b");
    }

    @Test
    void loraAppliedToTheBaseModelWithRsLoraScaling() throws IOException {
        tiny.write(tmp.resolve("base"), 1);
        tiny.writeVariant(tmp.resolve("ft"), 1, 12, 0.03f);
        List<Factors> factors = writeAdapter(tmp.resolve("base"), tmp.resolve("lora"), 4, 8, true);
        merge("""
                merge_method: task_arithmetic
                base_model: base+lora
                models:
                  - model: ft
                    parameters: {weight: 0.5}
                dtype: float32
                """);
        for (Factors f : factors) {
            float[] base = applied(read(tmp.resolve("base"), f.weight()), f, 4, (float) (8 / Math.sqrt(4)));
            float[] ft = read(tmp.resolve("ft"), f.weight());
            float[] out = read(tmp.resolve("out"), f.weight());
            for (int i = 0; i < out.length; i++) {
                assertThat(out[i]).isCloseTo(base[i] + 0.5f * (ft[i] - base[i]), within(1e-6f));
            }
            // the adapter really changed the base: without it the result differs
            float[] plainBase = read(tmp.resolve("base"), f.weight());
            assertThat(out).isNotEqualTo(plainBase);
        }
    }

    @Test
    void revisionsAreIgnoredWithAWarningAndTheDictFormReadsTheSame() throws IOException {
        tiny.writeVariant(tmp.resolve("a"), 1, 10, 0.02f);
        tiny.writeVariant(tmp.resolve("b"), 1, 11, 0.02f);
        writeAdapter(tmp.resolve("a"), tmp.resolve("lora"), 2, 2, false);
        MergeResult r = merge("""
                merge_method: linear
                models:
                  - model:
                      model: {path: a, revision: main}
                      lora: lora
                    parameters: {weight: 0.5}
                  - model: b@v1.0
                    parameters: {weight: 0.5}
                dtype: float32
                """);
        assertThat(r.inputModels()).containsExactly("a@main+lora", "b@v1.0");
        assertThat(r.warnings()).anyMatch(w -> w.contains("model 'a@main+lora': revision 'main' is ignored"));
        assertThat(r.warnings()).anyMatch(w -> w.contains("model 'b@v1.0': revision 'v1.0' is ignored"));
        float[] out = read(tmp.resolve("out"), "model.norm.weight");
        float[] a = read(tmp.resolve("a"), "model.norm.weight");
        float[] b = read(tmp.resolve("b"), "model.norm.weight");
        for (int i = 0; i < out.length; i++) {
            assertThat(out[i]).isEqualTo((0.5f * a[i] + 0.5f * b[i]) / 1.0f);
        }
    }

    @Test
    void badReferencesAndAdaptersAreProblemsNamingTheModel() throws IOException {
        MergeConfigException syntax = catchThrowableOfType(() -> MergeConfig.parseYaml("""
                merge_method: linear
                models:
                  - model: a+b+c
                    parameters: {weight: 1}
                  - model: x@1@2
                    parameters: {weight: 1}
                  - model: {model: {path: y}, override_architecture: LlamaForCausalLM}
                    parameters: {weight: 1}
                """), MergeConfigException.class);
        assertThat(syntax.problems()).anyMatch(p -> p.startsWith("models[0].model") && p.contains("more than one '+'"));
        assertThat(syntax.problems()).anyMatch(p -> p.startsWith("models[1].model") && p.contains("more than one '@'"));
        assertThat(syntax.problems()).anyMatch(p -> p.contains("models[2].model.override_architecture is not supported"));

        tiny.write(tmp.resolve("a"), 1);
        Files.createDirectories(tmp.resolve("not-an-adapter"));
        MergeConfigException missing = catchThrowableOfType(() -> merge("""
                merge_method: linear
                models:
                  - model: a+not-an-adapter
                    parameters: {weight: 1}
                """), MergeConfigException.class);
        assertThat(missing.problems()).anyMatch(p -> p.startsWith("model 'a+not-an-adapter'")
                && p.contains("no adapter_config.json"));
        assertThat(Files.exists(tmp.resolve("out"))).isFalse();
    }

    @Test
    void linearMergeOfABinModelAndASafetensorsModel() {
        tiny.writeVariant(tmp.resolve("a"), 1, 10, 0.02f);
        tiny.writeVariant(tmp.resolve("b"), 1, 11, 0.02f);
        tiny.writeVariant(tmp.resolve("a-copy"), 1, 10, 0.02f);
        TorchBin.convert(tmp.resolve("a"));
        assertThat(Files.exists(tmp.resolve("a/pytorch_model.bin"))).isTrue();
        assertThat(Files.exists(tmp.resolve("a/model.safetensors"))).isFalse();
        MergeResult r = merge("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: 0.25}
                  - model: b
                    parameters: {weight: 0.75}
                dtype: bfloat16
                """);
        assertThat(r.tensors()).isEqualTo(tiny.specs().size());
        for (TensorSpec spec : tiny.specs()) {
            float[] a = read(tmp.resolve("a-copy"), spec.name()); // the same values, from safetensors
            float[] b = read(tmp.resolve("b"), spec.name());
            float[] out = read(tmp.resolve("out"), spec.name());
            for (int i = 0; i < out.length; i++) {
                float expected = (0.25f * a[i] + 0.75f * b[i]) / 1.0f;
                assertThat(out[i]).isEqualTo(dev.amalgam.modelio.Dtypes.bf16ToFloat(
                        dev.amalgam.modelio.Dtypes.floatToBf16(expected)));
            }
        }
    }
}
