package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

class BlockMaskTest {

    @Test
    void fluentAndRecordFormsAreEqualAndImmutable() {
        BlockMask a = BlockMask.none().skipAttention(3).skipMlp(7).skipLayer(1);
        BlockMask b = new BlockMask(Set.of(1, 3), Set.of(7, 1));
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a.skippedAttention()).containsExactly(1, 3);
        assertThat(a.skippedCount()).isEqualTo(4);
        assertThat(a.skipsAttention(3)).isTrue();
        assertThat(a.skipsMlp(3)).isFalse();
        assertThat(BlockMask.none().skippedCount()).isZero();
        assertThat(BlockMask.none().skipAttention(0)).isNotEqualTo(BlockMask.none().skipMlp(0));
        assertThatThrownBy(() -> a.skippedMlp().add(2)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void rejectsNegativeAndOutOfRangeLayers() {
        assertThatThrownBy(() -> BlockMask.none().skipMlp(-1)).hasMessageContaining(">= 0");
        assertThatThrownBy(() -> BlockMask.none().skipAttention(4).validate(4)).hasMessageContaining("layer 4");
        BlockMask.none().skipAttention(3).validate(4);
    }
}
