package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every temporary of a forward is freed; outputs live on the caller's manager, the cache on its own. */
class ScopeTest {

    private static int live(LlamaModel model) {
        return ((BaseNDManager) model.manager()).getManagedArrays().size();
    }

    @Test
    void forwardLeavesNothingBehindAndTheCacheHoldsOnlyKeysValuesAndMask() {
        TinyFixture f = TinyFixture.llama3();
        try (LlamaModel model = f.engine()) {
            int baseline = live(model);
            BlockMask mask = BlockMask.none().skipAttention(1);
            try (KvCache cache = model.newCache(1, mask)) {
                for (int step = 0; step < 3; step++) {
                    try (NDManager m = model.manager().newSubManager()) {
                        ForwardOutput out = model.forward(m.create(new long[][] {{5 + step, 7}}), null, mask, cache, true);
                        // outputs: logits, last hidden, layers + 1 hidden states, plus the input ids
                        assertThat(out.hiddenStates()).hasSize(f.config.numHiddenLayers() + 1);
                        assertThat(((BaseNDManager) m).getManagedArrays()).hasSize(1 + 1 + 1 + 4);
                    }
                    // 2 attention layers cached (layer 1 skipped) x keys/values + the mask
                    assertThat(live(model)).isEqualTo(baseline + 2 * 2 + 1);
                    assertThat(cache.length()).isEqualTo(2 * (step + 1));
                }
            }
            assertThat(live(model)).isEqualTo(baseline);
        }
    }

    @Test
    void hiddenStatesAreTheResidualStreamAndSkippedLayersAreIdentity() {
        TinyFixture f = TinyFixture.qwen2();
        int[][] ids = {{3, 1, 4, 1, 5, 9}};
        try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
            BlockMask mask = BlockMask.none().skipLayer(2);
            ForwardOutput out = model.forward(m.create(ids), null, mask, null, true);
            List<NDArray> hs = out.hiddenStates();
            assertThat(hs.get(3).toFloatArray()).containsExactly(hs.get(2).toFloatArray());
            float[] embeddings = hs.get(0).toFloatArray(); // [1, 6, 64]: row t is the embedding of ids[t]
            assertThat(embeddings).hasSize(6 * 64);
            assertThat(java.util.Arrays.copyOfRange(embeddings, 5 * 64, 6 * 64)).containsExactly(
                    java.util.Arrays.copyOfRange(f.weights.get("model.embed_tokens.weight"), 9 * 64, 10 * 64));
            assertThat(hs.get(4).toFloatArray()).isNotEqualTo(hs.get(3).toFloatArray());
        }
    }

    @Test
    void lastHiddenStateMatchesReferenceFinalNorm() {
        TinyFixture f = TinyFixture.mistral();
        int[] ids = {3, 1, 4, 1, 5, 9, 2, 6};
        try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
            float[] last = model.forward(m.create(new int[][] {ids}), null, BlockMask.none(), null, false)
                    .lastHiddenState().toFloatArray();
            double[][] ref = f.reference().finalHidden(ids, new int[] {1, 1, 1, 1, 1, 1, 1, 1}, Set.of(), Set.of());
            for (int t = 0; t < ids.length; t++) {
                for (int i = 0; i < 32; i++) {
                    assertThat((double) last[t * 32 + i]).isCloseTo(ref[t][i], org.assertj.core.data.Offset.offset(1e-4));
                }
            }
        }
    }

    @Test
    void headOnATailOfPositionsEqualsTheSameSliceOfFullLogits() {
        TinyFixture f = TinyFixture.llama();
        long[][] ids = {{3, 1, 4, 1, 5, 9}, {2, 7, 1, 8, 2, 8}};
        int v = f.config.vocabSize();
        try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
            float[] full = model.logits(m.create(ids), null, BlockMask.none()).toFloatArray();
            float[] tail = model.forward(m.create(ids), null, BlockMask.none(), null, false, 4).logits().toFloatArray();
            assertThat(tail).hasSize(2 * 2 * v);
            for (int b = 0; b < 2; b++) {
                // equal up to the matmul's blocking (a different row count may change the summation order)
                assertThat(java.util.Arrays.copyOfRange(tail, b * 2 * v, (b + 1) * 2 * v)).containsExactly(
                        java.util.Arrays.copyOfRange(full, (b * 6 + 4) * v, (b * 6 + 6) * v),
                        org.assertj.core.data.Offset.offset(1e-5f));
            }
            assertThat(model.forward(m.create(ids), null, BlockMask.none(), null, false, 6).logits()).isNull();
        }
    }

    @Test
    void growingCacheGivesTheLogitsOfTheFullSequence() {
        TinyFixture f = TinyFixture.mistral(); // sliding window 5: older cached positions must drop out
        long[] seq = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
        int v = f.config.vocabSize();
        BlockMask mask = BlockMask.none().skipMlp(1);
        try (LlamaModel model = f.engine(); KvCache cache = model.newCache(1, mask);
                NDManager m = model.manager().newSubManager()) {
            float[] full = model.logits(m.create(new long[][] {seq}), null, mask).toFloatArray();
            int pos = 0;
            for (int step : new int[] {3, 1, 1, 4, 2}) { // prefill 3, then mixed step sizes; capacity grows 3 -> 6 -> 12
                long[][] part = {java.util.Arrays.copyOfRange(seq, pos, pos + step)};
                float[] got = model.forward(m.create(part), null, mask, cache, false).logits().toFloatArray();
                assertThat(got).containsExactly(java.util.Arrays.copyOfRange(full, pos * v, (pos + step) * v),
                        org.assertj.core.data.Offset.offset(1e-4f));
                pos += step;
            }
            assertThat(cache.length()).isEqualTo(seq.length);
        }
    }
}
