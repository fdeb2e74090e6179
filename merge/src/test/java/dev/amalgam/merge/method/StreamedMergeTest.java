package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.Chunks;
import dev.amalgam.merge.kernel.FloatSource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** Inputs read in ranges (FloatSource) and results handed over in chunks (FloatSink). */
class StreamedMergeTest {

    private static final int N = 2 * Chunks.SIZE + 4099; // three chunks, the last one partial

    @Test
    void linearStreamsItsInputsAndEqualsTheElementwiseFormula() {
        float[] a = TestInputs.random(N, 1, 1);
        float[] b = TestInputs.random(N, 2, 1);
        MergeMethod linear = MergeMethods.get("linear");
        List<TensorParams> params = List.of(TestInputs.withDefaults(linear.modelParameters(), TestInputs.w(0.25)),
                TestInputs.withDefaults(linear.modelParameters(), TestInputs.w(0.5)));
        float[] out = TestInputs.merge(linear, MergeInputs.streamed("t", new long[]{N}, TestInputs.sources(false, a, b), params,
                -1, TestInputs.withDefaults(linear.parameters(), Map.of()), 1));
        for (int i = 0; i < N; i += 997) {
            assertThat(out[i]).as("element %d", i).isEqualTo((0.25f * a[i] + 0.5f * b[i]) / 0.75f);
        }
    }

    @Test
    void tiesAndTaskArithmeticReadTheirInputsByRangeOnlyAndBudgetWhatTheyHold() {
        float[] base = TestInputs.random(N, 7, 1);
        float[] a = TestInputs.random(N, 8, 1);
        float[] b = TestInputs.random(N, 9, 1);
        for (String name : List.of("ties", "task_arithmetic")) {
            MergeMethod m = MergeMethods.get(name);
            List<TensorParams> params = List.of(TensorParams.EMPTY,
                    TestInputs.withDefaults(m.modelParameters(), Map.of("weight", 0.7, "density", 0.3)),
                    TestInputs.withDefaults(m.modelParameters(), Map.of("weight", 0.4, "density", 0.6)));
            TensorParams global = TestInputs.withDefaults(m.parameters(), Map.of());
            assertThat(m.streams(global)).as(name).isTrue();
            float[] fromArrays = TestInputs.merge(m, new MergeInputs("t", new long[]{N}, List.of(base, a, b), params, 0, global,
                    1));
            // sources that fail if widened whole: the method reads them by range only
            float[] streamed = TestInputs.merge(m, MergeInputs.streamed("t", new long[]{N}, TestInputs.sources(false, base, a, b),
                    params, 0, global, 1));
            assertThat(streamed).as(name).isEqualTo(fromArrays);
        }
        // what the executor budgets: streamed TIES at most one tensor per task vector, materialising methods more
        MergeMethod ties = MergeMethods.get("ties");
        TensorParams rescaled = TestInputs.withDefaults(ties.parameters(), Map.of("rescale", true));
        assertThat(ties.streams(rescaled)).isFalse();
        assertThat(ties.bufferedTensors(TestInputs.withDefaults(ties.parameters(), Map.of()), 3)).isEqualTo(2);
        assertThat(ties.bufferedTensors(rescaled, 3)).isEqualTo(5);
        MergeMethod dareTies = MergeMethods.get("dare_ties");
        assertThat(dareTies.streams(TestInputs.withDefaults(dareTies.parameters(), Map.of()))).isFalse();
        assertThat(MergeMethods.get("linear").bufferedTensors(TensorParams.EMPTY, 3)).isZero();
    }

    @Test
    void sceReadsItsInputsByRangeOnlyAndBudgetsOnlyTheVariances() {
        float[] base = TestInputs.random(N, 10, 1);
        float[] a = TestInputs.random(N, 11, 1);
        float[] b = TestInputs.random(N, 12, 1);
        MergeMethod sce = MergeMethods.get("sce");
        List<TensorParams> params = List.of(TensorParams.EMPTY, TensorParams.EMPTY, TensorParams.EMPTY);
        for (double tau : new double[]{1, 0.3}) {
            TensorParams global = TestInputs.withDefaults(sce.parameters(), Map.of("select_topk", tau));
            assertThat(sce.streams(global)).isTrue();
            assertThat(sce.bufferedTensors(global, 3)).as("tau %s", tau).isEqualTo(tau < 1 ? 1 : 0);
            float[] fromArrays = TestInputs.merge(sce, new MergeInputs("t", new long[]{N}, List.of(base, a, b), params, 0, global,
                    1));
            // sources that fail if widened whole: SCE reads them by range, in each of its three passes
            float[] streamed = TestInputs.merge(sce, MergeInputs.streamed("t", new long[]{N},
                    TestInputs.sources(false, base, a, b), params, 0, global, 1));
            assertThat(streamed).as("tau %s", tau).isEqualTo(fromArrays);
        }
    }

    @Test
    void aMethodThatNeedsWholeArraysWidensStreamedInputsOnce() {
        float[] a = TestInputs.random(N, 3, 1);
        float[] b = TestInputs.random(N, 4, 1);
        MergeMethod slerp = MergeMethods.get("slerp");
        List<TensorParams> params = List.of(TensorParams.EMPTY, TensorParams.EMPTY);
        TensorParams t = TestInputs.withDefaults(slerp.parameters(), Map.of("t", 0.3));
        float[] fromArrays = TestInputs.merge(slerp, new MergeInputs("t", new long[]{N}, List.of(a, b), params, 0, t, 1));
        MergeInputs streamed = MergeInputs.streamed("t", new long[]{N}, TestInputs.sources(a, b), params, 0, t,
                1);
        assertThat(TestInputs.merge(slerp, streamed)).isEqualTo(fromArrays);
        assertThat(streamed.tensors().get(0)).isNotSameAs(a).isEqualTo(a); // widened copies, owned by the inputs
        float[] handedOver = a.clone();
        MergeInputs arrays = MergeInputs.streamed("t", new long[]{N}, List.of(FloatSource.of(handedOver),
                FloatSource.of(b)), params, 0, t, 1);
        assertThat(arrays.tensors().get(0)).isSameAs(handedOver); // array sources are not copied again
        assertThatThrownBy(() -> TestInputs.merge(slerp, MergeInputs.streamed("t", new long[]{N}, TestInputs.sources(false, a, b),
                params, 0, t, 1))).hasMessageContaining("widened whole");
    }

    @Test
    void sinksReceiveEveryElementOnceOneChunkPerWrite() {
        float[] a = TestInputs.random(N, 5, 1);
        float[] b = TestInputs.random(N, 6, 1);
        for (String name : List.of("linear", "ties", "sce", "slerp")) {
            MergeMethod m = MergeMethods.get(name);
            Map<String, Object> perModel = switch (name) {
                case "linear" -> Map.of("weight", 0.5);
                case "ties" -> Map.of("weight", 0.5, "density", 0.5);
                default -> Map.of();
            };
            TensorParams p = TestInputs.withDefaults(m.modelParameters(), perModel);
            List<TensorParams> params = List.of(p, p);
            TensorParams global = TestInputs.withDefaults(m.parameters(), name.equals("slerp") ? Map.of("t", 0.5)
                    : Map.of());
            MergeInputs in = new MergeInputs("t", new long[]{N}, List.of(a, b), params, 0, global, 1);
            AtomicIntegerArray writes = new AtomicIntegerArray(N);
            List<int[]> ranges = java.util.Collections.synchronizedList(new ArrayList<>());
            m.merge(in, (from, values, offset, length) -> {
                ranges.add(new int[]{from, length});
                for (int i = 0; i < length; i++) {
                    writes.incrementAndGet(from + i);
                }
            });
            for (int i = 0; i < N; i++) {
                assertThat(writes.get(i)).as("%s: writes of element %d", name, i).isEqualTo(1);
            }
            assertThat(ranges).as(name + ": one write per chunk").hasSize(Chunks.count(N))
                    .allSatisfy(r -> assertThat(r[0] % Chunks.SIZE).isZero());
        }
    }
}
