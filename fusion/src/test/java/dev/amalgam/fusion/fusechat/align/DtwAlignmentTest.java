package dev.amalgam.fusion.fusechat.align;

import static dev.amalgam.fusion.fusechat.align.TinyVocabularies.BPE;
import static dev.amalgam.fusion.fusechat.align.TinyVocabularies.SP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class DtwAlignmentTest {

    @Test
    void editDistanceCountsInsertionsDeletionsAndSubstitutionsOverCodePoints() {
        assertThat(EditDistance.between("kitten", "sitting")).isEqualTo(3);
        assertThat(EditDistance.between("", "abc")).isEqualTo(3);
        assertThat(EditDistance.between("hel", "ld")).isEqualTo(3);
        assertThat(EditDistance.between(" cat", "at")).isEqualTo(2);
        // A supplementary character is one edit, not two UTF-16 units.
        assertThat(EditDistance.between("a\uD83D\uDE00", "ab")).isEqualTo(1);
    }

    @Test
    void tokenCostsNormaliseMarkersAsEachAuthorsScript() {
        // v2: markers removed, plain edit distance: "cat" vs "c".
        assertThat(TokenCost.fuseChatV2(BPE, SP).cost(BPE + "cat", SP + "c")).isEqualTo(2.0);
        // v1: the same pair, one contains the other, so times 0.1.
        assertThat(TokenCost.fuseChatV1(BPE, SP).cost(BPE + "cat", SP + "c")).isEqualTo(0.2, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(TokenCost.fuseChatV1(BPE, SP).cost(BPE + "cat", SP + "dog")).isEqualTo(3.0);
        // v2's empty-string rule: "▁▁" loses its markers entirely, so the raw strings are compared with the source
        // marker rewritten: "▁" vs "▁▁" = 1. FuseLLM compares "" with "" = 0.
        assertThat(TokenCost.fuseChatV2(BPE, SP).cost(BPE, SP + SP)).isEqualTo(1.0);
        assertThat(TokenCost.fuseLlm(BPE, SP).cost(BPE, SP + SP)).isEqualTo(0.0);
    }

    /**
     * The two tokenisations of "a cat runs" (decoded pieces). Cost c(source i, pivot j) = edit distance:
     * <pre>
     *                 "a"  "c"  "at"  "runs"
     *   "a"            0    1    1     4
     *   " cat"         3    3    2     4
     *   " run"         4    4    4     2
     *   "s"            1    1    2     3
     * </pre>
     * D (accumulated):
     * <pre>
     *   row 0:  0  1  2  6
     *   row 1:  3  3  3  6
     *   row 2:  7  7  7  5
     *   row 3:  8  8  9  8
     * </pre>
     * Trace back from (3,3): diagonal D22 = 7, previous source D23 = 5, previous pivot D32 = 9 -> (2,3);
     * diagonal D12 = 3 beats D13 = 6 and D22 = 7 -> (1,2); diagonal D01 = 1 beats D02 = 2, D11 = 3 -> (0,1);
     * on row 0 only the previous pivot is left -> (0,0). So pivot "a" and "c" share source "a", pivot "at"
     * takes " cat", and pivot "runs" takes both " run" and "s".
     */
    @Test
    void alignsASentencePieceAndAByteLevelSplitOfTheSameTextAlongTheHandWorkedPath() {
        DtwAlignment a = DtwAlignment.fuseChatV2(TinyVocabularies.sourceText().pieces(),
                TinyVocabularies.pivotText().pieces(), BPE, SP);

        assertThat(a.cost()).isEqualTo(8.0);
        assertThat(a.path()).containsExactly(new int[] {0, 0}, new int[] {0, 1}, new int[] {1, 2}, new int[] {2, 3},
                new int[] {3, 3});
        assertThat(a.pivotToSource()).containsExactly(new int[] {0}, new int[] {0}, new int[] {1}, new int[] {2, 3});
        assertThat(a.sourceToPivot()).containsExactly(new int[] {0, 1}, new int[] {2}, new int[] {3}, new int[] {3});
    }

    /**
     * The same text compared as raw tokens (convert_ids_to_tokens) with FuseChat 1.0's cost: markers removed,
     * so "a c at runs" against "a cat run s", and containment costs a tenth:
     * <pre>
     *            "a"   "c"   "at"  "runs"        D:  0    1    1.1  5.1
     *   "a"       0     1    0.1   4                 0.2  0.2  0.3  4.3
     *   "cat"    0.2   0.2   0.1   4                 3.2  3.2  3.2  0.4
     *   "run"     3     3     3    0.1               4.2  4.2  5.2  0.7
     *   "s"       1     1     2    0.3
     * </pre>
     * Trace back (v1 order): (3,3) -> previous source 0.4 -> (2,3) -> diagonal 0.3 -> (1,2) -> previous pivot
     * 0.2 (diagonal 1, previous source 1.1) -> (1,1) -> diagonal -> (0,0). Unlike the v2 alignment of the decoded
     * pieces, the discount pulls pivot "c" onto source "cat".
     */
    @Test
    void fuseChatV1AlignsRawTokensWithMarkersRemovedAndTheContainmentDiscount() {
        Vocabulary pivot = TinyVocabularies.pivot();
        Vocabulary source = TinyVocabularies.source();
        TokenizedText p = TokenizedText.raw(TinyVocabularies.pivotText().ids(), pivot);
        TokenizedText s = TokenizedText.raw(TinyVocabularies.sourceText().ids(), source);
        assertThat(p.pieces()).containsExactly(SP + "a", SP + "c", "at", SP + "runs");

        DtwAlignment a = DtwAlignment.align(s.pieces(), p.pieces(), TokenCost.fuseChatV1(BPE, SP),
                DtwAlignment.Backtrack.DIAGONAL_SOURCE_PIVOT);

        assertThat(a.cost()).isEqualTo(0.7, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(a.path()).containsExactly(new int[] {0, 0}, new int[] {1, 1}, new int[] {1, 2}, new int[] {2, 3},
                new int[] {3, 3});
        assertThat(a.pivotToSource()).containsExactly(new int[] {0}, new int[] {1}, new int[] {1}, new int[] {2, 3});
    }

    /**
     * Costs chosen so that at (2,2) the two non-diagonal predecessors tie below the diagonal:
     * <pre>
     *   c:  0 0 0      D:  0 0 0
     *       0 9 1          0 9 1
     *       0 1 0          0 1 1
     * </pre>
     * At (2,2): diagonal D11 = 9, previous source D12 = 1, previous pivot D21 = 1. FuseLLM / v1 take the previous
     * source (then diagonal to (0,1), then (0,0)); v2 takes the previous pivot (then diagonal to (1,0), then (0,0)).
     */
    @Test
    void tiesInTheTraceBackFollowEachVersionsOrder() {
        Map<String, Double> table = Map.of("s1|p1", 9.0, "s1|p2", 1.0, "s2|p1", 1.0);
        TokenCost cost = (s, p) -> table.getOrDefault(s + "|" + p, 0.0);
        List<String> source = List.of("s0", "s1", "s2");
        List<String> pivot = List.of("p0", "p1", "p2");

        DtwAlignment v1 = DtwAlignment.align(source, pivot, cost, DtwAlignment.Backtrack.DIAGONAL_SOURCE_PIVOT);
        DtwAlignment v2 = DtwAlignment.align(source, pivot, cost, DtwAlignment.Backtrack.DIAGONAL_PIVOT_SOURCE);

        assertThat(v1.cost()).isEqualTo(1.0);
        assertThat(v1.path()).containsExactly(new int[] {0, 0}, new int[] {0, 1}, new int[] {1, 2}, new int[] {2, 2});
        assertThat(v2.path()).containsExactly(new int[] {0, 0}, new int[] {1, 0}, new int[] {2, 1}, new int[] {2, 2});
        assertThat(v1.pivotToSource()).containsExactly(new int[] {0}, new int[] {0}, new int[] {1, 2});
        assertThat(v2.pivotToSource()).containsExactly(new int[] {0, 1}, new int[] {2}, new int[] {2});
    }

    @Test
    void identicalSequencesAlignOnTheDiagonalAndEmptyOnesAreRefused() {
        DtwAlignment a = DtwAlignment.fuseChatV2(List.of("x", "y", "z"), List.of("x", "y", "z"), BPE, SP);
        assertThat(a.cost()).isZero();
        assertThat(a.pivotToSource()).containsExactly(new int[] {0}, new int[] {1}, new int[] {2});

        assertThatThrownBy(() -> DtwAlignment.fuseChatV2(List.of(), List.of("x"), BPE, SP))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
    }
}
