package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import dev.amalgam.merge.kernel.FloatSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Builds {@link MergeInputs} for tests, filling defaults from the method's parameter definitions. */
final class TestInputs {

    private TestInputs() {
    }

    /** Merges one tensor through the method's one entry point and collects the chunks into an array. */
    static float[] merge(MergeMethod method, MergeInputs in) {
        float[] result = new float[in.length()];
        method.merge(in, FloatSink.into(result));
        return result;
    }

    static MergeInputs of(MergeMethod method, long[] shape, int baseIndex, Map<String, Object> global,
                          List<Map<String, Object>> perModel, float[]... tensors) {
        List<TensorParams> models = new ArrayList<>();
        for (Map<String, Object> p : perModel) {
            models.add(withDefaults(method.modelParameters(), p));
        }
        return new MergeInputs("t", shape, List.of(tensors), models, baseIndex,
                withDefaults(method.parameters(), global), 42);
    }

    static MergeInputs flat(MergeMethod method, int baseIndex, Map<String, Object> global,
                            List<Map<String, Object>> perModel, float[]... tensors) {
        return of(method, new long[]{tensors[0].length}, baseIndex, global, perModel, tensors);
    }

    static TensorParams withDefaults(List<ParameterDef> defs, Map<String, Object> given) {
        Map<String, Object> values = new HashMap<>(given);
        for (ParameterDef d : defs) {
            if (!values.containsKey(d.name()) && d.defaultValue() != null) {
                values.put(d.name(), d.defaultValue());
            }
        }
        return new TensorParams(values);
    }

    static Map<String, Object> w(double weight) {
        return Map.of("weight", weight);
    }

    /**
     * Sources over the arrays that are not {@link FloatSource#of} array sources, as the executor's memory-mapped
     * inputs are not: read by range, widened whole by {@link FloatSource#toArray} only.
     */
    static List<FloatSource> sources(float[]... arrays) {
        return sources(true, arrays);
    }

    /** As {@link #sources(float[]...)}; with {@code widenable} false, widening one whole fails the test. */
    static List<FloatSource> sources(boolean widenable, float[]... arrays) {
        List<FloatSource> sources = new ArrayList<>();
        for (float[] x : arrays) {
            sources.add(new FloatSource() {
                @Override
                public int length() {
                    return x.length;
                }

                @Override
                public void read(int from, float[] dst, int offset, int length) {
                    System.arraycopy(x, from, dst, offset, length);
                }

                @Override
                public float[] toArray() {
                    if (!widenable) {
                        throw new AssertionError("an input was widened whole");
                    }
                    return FloatSource.super.toArray();
                }
            });
        }
        return sources;
    }

    static float[] random(int n, long seed, double scale) {
        java.util.Random r = new java.util.Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }
}
