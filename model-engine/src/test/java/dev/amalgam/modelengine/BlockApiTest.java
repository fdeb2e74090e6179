package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The block-level API ({@link LlamaModel#embed}, {@link LlamaModel#positionTables}, {@link LlamaModel#attentionBlock},
 * {@link LlamaModel#mlpBlock}, {@link LlamaModel#finalNorm}), composed by hand as a caller that runs the decoder
 * block by block would, gives bit for bit the hidden states of {@link LlamaModel#forward}; its id check is the
 * forward's.
 */
class BlockApiTest {

    private static float[] composed(LlamaModel model, NDManager m, long[][] ids, BlockMask skip) {
        NDArray idArray = m.create(ids);
        NDArray x = model.embed(idArray);
        PositionTables tables = model.positionTables(m, ids[0].length);
        for (int layer = 0; layer < model.config().numHiddenLayers(); layer++) {
            if (!skip.skipsAttention(layer)) {
                x = x.add(model.attentionBlock(x, layer, tables));
            }
            if (!skip.skipsMlp(layer)) {
                x = x.add(model.mlpBlock(x, layer));
            }
        }
        return model.finalNorm(x).toFloatArray();
    }

    @Test
    void composedBlocksEqualTheForwardPass() {
        long[][] ids = {{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}, {2, 7, 1, 8, 2, 8, 1, 8, 2, 8}};
        // llama3: GQA and rope scaling; mistral: a sliding window shorter than the sequences; qwen2: q/k/v biases
        for (TinyFixture f : List.of(TinyFixture.llama3(), TinyFixture.mistral(), TinyFixture.qwen2())) {
            try (LlamaModel model = f.engine(); NDManager m = model.manager().newSubManager()) {
                for (BlockMask skip : List.of(BlockMask.none(), BlockMask.none().skipAttention(1).skipMlp(0))) {
                    float[] forward = model.forward(m.create(ids), null, skip, null, false).lastHiddenState()
                            .toFloatArray();
                    assertThat(composed(model, m, ids, skip)).containsExactly(forward);
                }
            }
        }
    }

    @Test
    void tokenIdsAreCheckedAsTheForwardChecksThem() {
        try (LlamaModel model = TinyFixture.llama3().engine(); NDManager m = model.manager().newSubManager()) {
            int vocab = model.config().vocabSize();
            model.checkTokenIds(new long[] {0, vocab - 1});
            for (long bad : new long[] {-1, vocab}) {
                String message = "token id " + bad + " outside the vocabulary [0, " + vocab + ")";
                assertThatThrownBy(() -> model.checkTokenIds(new long[] {1, bad}))
                        .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
                assertThatThrownBy(() -> model.forward(m.create(new long[][] {{1, bad}}), null, BlockMask.none(), null,
                        false)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
            }
        }
    }

    @Test
    void positionTablesKeepOnlyTheirThreeArrays() {
        try (LlamaModel model = TinyFixture.mistral().engine(); NDManager m = model.manager().newSubManager()) {
            PositionTables t = model.positionTables(m, 7);
            assertThat(((BaseNDManager) m).getManagedArrays()).hasSize(3);
            assertThat(t.cos().getShape().getShape()).containsExactly(1, 1, 7, model.config().headDim());
            assertThat(t.bias().getShape().getShape()).containsExactly(1, 1, 7, 7);
            float[] bias = t.bias().toFloatArray();
            int window = model.config().slidingWindow();
            for (int q = 0; q < 7; q++) {
                for (int k = 0; k < 7; k++) {
                    boolean allowed = k <= q && q - k < window;
                    assertThat(bias[q * 7 + k]).as("query %d, key %d", q, k).isEqualTo(allowed ? 0f : -1e9f);
                }
            }
        }
    }
}
