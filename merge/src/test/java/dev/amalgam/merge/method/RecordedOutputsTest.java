package dev.amalgam.merge.method;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * The task-arithmetic family and SCE reproduce, bit for bit (any NaN counting as equal to any NaN: the JIT's NaN
 * sign and payload vary), the outputs of their earlier straightforward implementation (thinned task vectors
 * materialised, one pass per step; commit 98603fd) on generated inputs: Gaussian values, BF16 models that differ
 * by small BF16 perturbations (many equal magnitudes at the top-k thresholds), sparse zeros, identical models, and
 * values with NaN, infinities and -0; 1 to 3 models besides the base, the base anywhere; single-chunk and
 * multi-chunk tensors; several densities (0, tiny, 0.1 .. 1), weights (also of opposite signs), normalize,
 * rescale and lambda; owned inputs (reused as scratch), borrowed ones (left untouched) and streamed ones (read
 * in ranges, as the merge executor hands over memory-mapped tensors). The checksums below
 * were recorded by running these cases through that implementation, which the optimised code replaced.
 */
class RecordedOutputsTest {

    /** CRC32 over the outputs (as Float.floatToIntBits) of all cases of each method, in case order. */
    private static final Map<String, Long> RECORDED = Map.of(
            "task_arithmetic", 2999274278L,
            "ties", 4059952830L,
            "dare_linear", 663124240L,
            "dare_ties", 1892048879L,
            "breadcrumbs", 3806921715L,
            "breadcrumbs_ties", 2732490032L,
            "della", 4108832935L,
            "della_linear", 1317751438L,
            "sce", 2826421276L);

    /** One merge case. */
    interface Case {
        void run(long[] shape, int baseIndex, Map<String, Object> global, List<Map<String, Object>> perModel,
                 float[][] tensors);
    }

    private static final int[][] SHAPES = {{1, 1}, {1, 7}, {10, 50}, {40, 257}, {600, 2048}};

    static final List<String> METHODS = List.of("task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs",
            "breadcrumbs_ties", "della", "della_linear", "sce");

    /** The cases of one method, in a fixed order. */
    static void cases(String name, Case body) {
        long seed = name.equals("sce") ? 100 : 1;
        for (int[] s : SHAPES) {
            int n = s[0] * s[1];
            long[] shape = {s[0], s[1]};
            for (int kind = 0; kind < 5; kind++) {
                for (int models = 2; models <= 4; models++) {
                    if (n > 100_000 && (kind == 0 || kind >= 3 || models != 3)) {
                        continue; // multi-chunk tensors: the tie-heavy and zero-heavy cases are enough
                    }
                    float[][] t = data(n, models, kind, seed++);
                    int baseIndex = (int) (seed % models);
                    if (name.equals("sce")) {
                        List<Map<String, Object>> per = new ArrayList<>();
                        for (int m = 0; m < models; m++) {
                            per.add(p());
                        }
                        for (double tau : new double[]{1, 0.9, 0.5, 0.1, 1e-7, 0}) {
                            body.run(shape, baseIndex, p("select_topk", tau), per, t);
                        }
                        continue;
                    }
                    if (n > 100_000 && name.startsWith("della") && kind != 1) {
                        continue; // slow per-row sort; kind 1 covers it
                    }
                    double[][] densities = {{1, 1, 1}, {0.5, 0.5, 0.5}, {0.9, 0.1, 0.3}, {0.0, 0.5, 1e-7}};
                    for (double[] dens : densities) {
                        if (name.startsWith("della") && (dens[0] == 0 || dens[2] < 0.2)) {
                            dens = new double[]{0.5, 0.4, 0.6};
                        }
                        for (int variant = 0; variant < 3; variant++) {
                            List<Map<String, Object>> per = new ArrayList<>();
                            int o = 0;
                            for (int m = 0; m < models; m++) {
                                if (m == baseIndex) {
                                    per.add(p());
                                    continue;
                                }
                                double w = variant == 2 ? (o % 2 == 0 ? 1.0 : -1.0) : 0.3 + 0.4 * o;
                                Map<String, Object> mp = p("weight", w, "density", dens[o % 3]);
                                if (name.startsWith("della")) {
                                    mp.put("epsilon", 0.1);
                                }
                                per.add(mp);
                                o++;
                            }
                            Map<String, Object> global = variant == 0 ? p()
                                    : p("normalize", variant == 1, "rescale", variant == 2, "lambda", 0.7);
                            body.run(shape, baseIndex, global, per, t);
                        }
                    }
                }
            }
        }
    }

    /** How a case hands its inputs to the method. */
    enum Inputs {
        OWNED, BORROWED,
        /** Sources read in ranges, as the merge executor hands over memory-mapped tensors. */
        STREAMED
    }

    /** Checksum of a method's outputs over its cases; borrowed inputs are checked to stay untouched. */
    static long checksum(String name, MergeMethod method, Inputs mode) {
        CRC32 crc = new CRC32();
        cases(name, (shape, baseIndex, global, perModel, tensors) -> {
            List<TensorParams> params = new ArrayList<>();
            for (Map<String, Object> p : perModel) {
                params.add(TestInputs.withDefaults(method.modelParameters(), p));
            }
            float[][] in = copy(tensors);
            TensorParams globalParams = TestInputs.withDefaults(method.parameters(), global);
            float[] out = TestInputs.merge(method, mode == Inputs.STREAMED
                    ? MergeInputs.streamed("t", shape, TestInputs.sources(in), params, baseIndex, globalParams, 7)
                    : new MergeInputs("t", shape, List.of(in), params, baseIndex, globalParams, 7,
                    mode == Inputs.OWNED));
            ByteBuffer b = ByteBuffer.allocate(4 * out.length);
            for (float v : out) {
                b.putInt(Float.floatToIntBits(v));
            }
            crc.update(b.array());
            if (mode != Inputs.OWNED) {
                for (int m = 0; m < in.length; m++) {
                    assertThat(in[m]).as("inputs untouched").isEqualTo(tensors[m]);
                }
            }
        });
        return crc.getValue();
    }

    @Test
    void outputsMatchTheRecordedOnesBitForBit() {
        Map<String, Long> got = new LinkedHashMap<>();
        Map<String, Long> expected = new LinkedHashMap<>();
        for (String name : METHODS) {
            for (Inputs mode : Inputs.values()) {
                got.put(name + " (" + mode + ")", checksum(name, MergeMethods.get(name), mode));
                expected.put(name + " (" + mode + ")", RECORDED.get(name));
            }
        }
        assertThat(got).isEqualTo(expected);
    }

    private static float bf16(float v) {
        int b = Float.floatToRawIntBits(v);
        return Float.intBitsToFloat((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000);
    }

    /**
     * kind 0: gaussian; 1: BF16 base + small BF16 perturbation (many ties); 2: sparse zeros; 3: identical;
     * 4: gaussian with some NaN, infinities and -0.
     */
    private static float[][] data(int n, int models, int kind, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] t = new float[models][n];
        for (int i = 0; i < n; i++) {
            float b = (float) gauss(r);
            for (int m = 0; m < models; m++) {
                float v = switch (kind) {
                    case 0 -> (float) gauss(r);
                    case 1 -> bf16(m == 0 ? bf16(b) : bf16(bf16(b) + 0.01f * (float) gauss(r)));
                    case 2 -> r.nextInt(3) == 0 ? b : (r.nextInt(4) == 0 ? 0f : (float) gauss(r));
                    case 4 -> r.nextInt(40) != 0 ? (float) gauss(r)
                            : new float[]{Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f}[r.nextInt(4)];
                    default -> b;
                };
                t[m][i] = v;
            }
        }
        return t;
    }

    private static double gauss(SplittableRandom r) {
        double u = r.nextDouble(1e-12, 1), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    private static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    private static Map<String, Object> p(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
