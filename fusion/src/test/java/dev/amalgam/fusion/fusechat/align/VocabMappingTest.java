package dev.amalgam.fusion.fusechat.align;

import static dev.amalgam.fusion.fusechat.align.TinyVocabularies.BPE;
import static dev.amalgam.fusion.fusechat.align.TinyVocabularies.SP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import java.util.List;

import org.junit.jupiter.api.Test;

class VocabMappingTest {

    /**
     * Pivot: 0 &lt;unk&gt;, 1 &lt;s&gt;, 2 &lt;/s&gt;, 3 ▁a, 4 ▁c, 5 at, 6 ▁runs, 7 ▁cat, 8 s, 9 ▁run.
     * Each source token, with Ġ rewritten to ▁:
     * <ul>
     *   <li>0 "&lt;|endoftext|&gt;": no exact match; &lt;unk&gt; is 10 edits away (keep &lt; n &gt;, 2 substitutions,
     *       8 insertions), &lt;s&gt; and &lt;/s&gt; 11; the rest farther -> 0;</li>
     *   <li>1 "a": ▁a and at are both 1 away -> the lower id 3;</li>
     *   <li>2 "▁cat": exact -> 7; 3 "▁run": exact -> 9; 4 "s": exact -> 8;</li>
     *   <li>5 "▁dog": ▁a, ▁c, ▁cat, ▁run are 3 away, nothing closer -> 3;</li>
     *   <li>6 "▁cats": ▁cat is 1 away -> 7; 7 "!": s is 1 away -> 8.</li>
     * </ul>
     */
    @Test
    void minEditDistanceTakesTheExactTokenElseTheClosestWithTheLowestIdOnTies() {
        VocabMapping m = VocabMapping.minEditDistance(TinyVocabularies.source(), TinyVocabularies.pivot());
        assertThat(m.sourceToPivot()).containsExactly(0, 3, 7, 9, 8, 3, 7, 8);
    }

    /**
     * MS over hand-set counts (d = v1 distance without markers, times 0.1 on containment; rank d * sigmoid(count)):
     * <ul>
     *   <li>source 2 "Ġcat", seen with ▁c (5 times) and at (5 times), never with ▁cat: d("cat","c") = 0.1 * 2,
     *       d("cat","at") = 0.1 * 1; 0.2 * sigmoid(5) = 0.19866 vs 0.1 * sigmoid(5) = 0.09933 -> at (5), where
     *       MinED would take the exact ▁cat;</li>
     *   <li>source 5 "Ġdog", seen with ▁a 3 times and ▁c once: d = 3 both; 3 * sigmoid(3) = 2.8577 vs
     *       3 * sigmoid(1) = 2.1932 -> ▁c (4): the rarer pair wins, as in the authors' formula;</li>
     *   <li>source 7 "!": never aligned -> the pivot's unk (0);</li>
     *   <li>source 0, the source's eos: the counts say s, but eos maps to the pivot's eos (2).</li>
     * </ul>
     */
    @Test
    void mostSimilarRanksCoAlignedPivotTokensBySigmoidOfCountTimesDistance() {
        CoOccurrenceCounts counts = new CoOccurrenceCounts();
        counts.increment(4, 2, 5);
        counts.increment(5, 2, 5);
        counts.increment(3, 5, 3);
        counts.increment(4, 5, 1);
        counts.increment(8, 0, 7);

        VocabMapping m = VocabMapping.mostSimilar(counts, TinyVocabularies.source(), TinyVocabularies.pivot());

        assertThat(m.pivotId(2)).isEqualTo(5);
        assertThat(m.pivotId(5)).isEqualTo(4);
        assertThat(m.pivotId(7)).isEqualTo(0);
        assertThat(m.pivotId(0)).isEqualTo(2);
        assertThat(m.pivotId(1)).isEqualTo(0); // no counts at all
    }

    @Test
    void mostSimilarFallsBackToThePivotsEosWithoutAnUnkAndRefusesAPivotWithNeither() {
        Vocabulary noUnk = new Vocabulary(List.of("x", "</s>"), SP, Vocabulary.NONE, 1, Vocabulary.NONE);
        Vocabulary src = new Vocabulary(List.of("y"), BPE, Vocabulary.NONE, Vocabulary.NONE, Vocabulary.NONE);
        assertThat(VocabMapping.mostSimilar(new CoOccurrenceCounts(), src, noUnk).sourceToPivot()).containsExactly(1);

        Vocabulary neither = new Vocabulary(List.of("x"), SP, Vocabulary.NONE, Vocabulary.NONE, Vocabulary.NONE);
        assertThatThrownBy(() -> VocabMapping.mostSimilar(new CoOccurrenceCounts(), src, neither))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("neither an unk nor an eos");
    }

    @Test
    void mappingDistanceComparesRawStringsWhenAMarkerOnlyTokenWouldBecomeEmpty() {
        // "Ġ" -> "" so compare "▁" (rewritten) with the raw "▁a": contained, 0.1 * 1.
        assertThat(VocabMapping.mappingDistance(BPE, SP + "a", BPE, SP)).isEqualTo(0.1, offset(1e-12));
        // "Ġ" vs "at": "▁" vs "at", no containment, 2 edits.
        assertThat(VocabMapping.mappingDistance(BPE, "at", BPE, SP)).isEqualTo(2.0);
    }

    /**
     * Counting over the worked alignment of "a cat runs" (pivot ids 3 4 5 6, source ids 1 2 3 4, pivot positions
     * aligned to source positions [0] [0] [1] [2,3]): pairs (3,1) (4,1) (5,2) (6,3) (6,4) once each. A source id
     * repeated among one pivot position's aligned positions counts once.
     */
    @Test
    void coOccurrenceCountsEachDistinctAlignedPairOncePerPivotPosition() {
        DtwAlignment a = DtwAlignment.fuseChatV2(TinyVocabularies.sourceText().pieces(),
                TinyVocabularies.pivotText().pieces(), BPE, SP);
        CoOccurrenceCounts counts = new CoOccurrenceCounts();
        counts.add(TinyVocabularies.pivotText().ids(), TinyVocabularies.sourceText().ids(), a);
        counts.add(TinyVocabularies.pivotText().ids(), TinyVocabularies.sourceText().ids(), a);

        assertThat(counts.count(3, 1)).isEqualTo(2);
        assertThat(counts.count(4, 1)).isEqualTo(2);
        assertThat(counts.count(5, 2)).isEqualTo(2);
        assertThat(counts.count(6, 3)).isEqualTo(2);
        assertThat(counts.count(6, 4)).isEqualTo(2);
        assertThat(counts.count(3, 2)).isZero();

        DtwAlignment twoSameIds = new DtwAlignment(List.of(new int[] {0, 1}), List.of(new int[] {0}, new int[] {0}),
                List.of(new int[] {0, 0}, new int[] {1, 0}), 0);
        CoOccurrenceCounts dedup = new CoOccurrenceCounts();
        dedup.add(new int[] {9}, new int[] {4, 4}, twoSameIds);
        assertThat(dedup.count(9, 4)).isEqualTo(1);
    }

    @Test
    void vocabularyRefusesAnEmptyMarkerAndOutOfRangeSpecialIds() {
        assertThatThrownBy(() -> new Vocabulary(List.of("a"), "", 0, 0, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wordMarker");
        assertThatThrownBy(() -> new Vocabulary(List.of("a"), SP, 3, Vocabulary.NONE, Vocabulary.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bosId 3");
    }
}
