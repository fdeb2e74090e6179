package dev.amalgam.fusion.fusechat.align;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class DistributionAlignerTest {

    /** Source id -> pivot id for tokens the pivot lacks: eos -> &lt;/s&gt;, a -> ▁a, Ġdog -> ▁a, Ġcats -> ▁cat, ! -> s. */
    private static final VocabMapping MAPPING = new VocabMapping(new int[] {2, 3, 7, 9, 8, 3, 7, 8});

    /** The source's top-k at each of its positions (after "a", " cat", " run", "s"), in source ids. */
    private static List<TopK> sourceTopK() {
        return List.of(
                new TopK(new int[] {2, 5, 6}, new float[] {3.0f, 2.0f, 1.0f}), // Ġcat, Ġdog, Ġcats
                new TopK(new int[] {3, 7}, new float[] {2.5f, 0.5f}),          // Ġrun, !
                new TopK(new int[] {4, 1}, new float[] {4.0f, 1.0f}),          // s, a
                new TopK(new int[] {0, 7}, new float[] {5.0f, 0.0f}));         // eos, !
    }

    /**
     * With the alignment of {@code DtwAlignmentTest} (pivot positions <- source positions [0] [0] [1] [2,3]):
     * <ul>
     *   <li>pivot 0 "a" <- source "a": equal, 1:1 -> the source's top-k at 0: Ġcat -> ▁cat (7, exact string),
     *       Ġdog -> no ▁dog, mapping -> ▁a (3), Ġcats -> mapping -> ▁cat (7) again, dropped: ids [7, 3], logits [3, 2];</li>
     *   <li>pivot 1 "c" <- source "a": neither ends the other -> one-hot on the gold next pivot token, "at" (5);</li>
     *   <li>pivot 2 "at" <- source " cat": " cat" ends with "at" (n:1, the last piece of the split word) -> the
     *       top-k at 1: Ġrun -> ▁run (9), ! -> mapping -> s (8): ids [9, 8], logits [2.5, 0.5];</li>
     *   <li>pivot 3 "runs" <- source " run", "s" (1:n): " run" does not end "runs" nor the reverse (its decoded
     *       space is not a marker), "s" ends "runs" -> the top-k at 3: eos -> mapping -> &lt;/s&gt; (2), ! -> s (8):
     *       ids [2, 8], logits [5, 0].</li>
     * </ul>
     */
    @Test
    void alignsTopKOfAByteLevelSourceOntoASentencePiecePivotAsWorkedByHand() {
        DistributionAligner aligner = new DistributionAligner(TinyVocabularies.pivot(), TinyVocabularies.source(),
                MAPPING, true);

        List<TopK> aligned = aligner.align(TinyVocabularies.pivotText(), TinyVocabularies.sourceText(), sourceTopK());

        assertThat(aligned).containsExactly(
                new TopK(new int[] {7, 3}, new float[] {3.0f, 2.0f}),
                TopK.oneHot(5),
                new TopK(new int[] {9, 8}, new float[] {2.5f, 0.5f}),
                new TopK(new int[] {2, 8}, new float[] {5.0f, 0.0f}));
    }

    /** Without the 1:n rule, pivot 3 gets the one-hot; being the last position, on its own id (▁runs, 6). */
    @Test
    void withoutResolvingOneToManyTheLastPositionGetsAOneHotOnItsOwnToken() {
        DistributionAligner aligner = new DistributionAligner(TinyVocabularies.pivot(), TinyVocabularies.source(),
                MAPPING, false);

        List<TopK> aligned = aligner.align(TinyVocabularies.pivotText(), TinyVocabularies.sourceText(), sourceTopK());

        assertThat(aligned.get(3)).isEqualTo(TopK.oneHot(6));
        assertThat(aligned.get(0)).isEqualTo(new TopK(new int[] {7, 3}, new float[] {3.0f, 2.0f}));
    }

    @Test
    void refusesTopKIdsBeyondTheSourceTokenizerAndMismatchedLengths() {
        DistributionAligner aligner = new DistributionAligner(TinyVocabularies.pivot(), TinyVocabularies.source(),
                MAPPING, true);
        List<TopK> bad = new ArrayList<>(sourceTopK());
        bad.set(0, new TopK(new int[] {8}, new float[] {1f})); // a padding row of the model's embedding
        assertThatThrownBy(() -> aligner.align(TinyVocabularies.pivotText(), TinyVocabularies.sourceText(), bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("source top-k id 8 at source position 0");
        assertThatThrownBy(() -> aligner.align(TinyVocabularies.pivotText(), TinyVocabularies.sourceText(),
                sourceTopK().subList(0, 3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 positions");
        assertThatThrownBy(() -> new DistributionAligner(TinyVocabularies.pivot(), TinyVocabularies.source(),
                new VocabMapping(new int[] {0}), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("covers 1 source ids");
    }

    /**
     * The authors' 1:n branch, transcribed: after the suffix test fails it splits the pivot piece greedily into
     * the source pieces and, if they spell it exactly, takes the last one's top-k; else nothing (empty) or, when
     * the joined pieces and the pivot piece do not end one another, the one-hot. On random pieces this never
     * gives anything but the suffix rule's answer, which is why {@link DistributionAligner} stops there.
     */
    @Test
    void theAuthorsPrefixSplitBranchNeverChangesTheOneToManyOutcome() {
        Random random = new Random(7);
        String alphabet = "ab" + TinyVocabularies.SP + TinyVocabularies.BPE;
        for (int trial = 0; trial < 50_000; trial++) {
            String pivotPiece = randomString(random, alphabet, 4);
            int n = 2 + random.nextInt(3);
            List<String> pieces = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                pieces.add(randomString(random, alphabet, 3));
            }
            assertThat(simplified(pivotPiece, pieces)).as("pivot %s, source %s", pivotPiece, pieces)
                    .isEqualTo(authors(pivotPiece, pieces));
        }
    }

    private static final int ONE_HOT = -1;
    private static final int EMPTY = -2;

    private static int simplified(String pivotPiece, List<String> pieces) {
        String p = pivotPiece.replace(TinyVocabularies.SP, "");
        for (int j = 0; j < pieces.size(); j++) {
            String s = pieces.get(j).replace(TinyVocabularies.BPE, "");
            if (p.endsWith(s) || s.endsWith(p)) {
                return j;
            }
        }
        return ONE_HOT;
    }

    private static int authors(String pivotPiece, List<String> pieces) {
        String base = pivotPiece.replace(TinyVocabularies.SP, "");
        List<String> blending = new ArrayList<>();
        for (String s : pieces) {
            blending.add(s.replace(TinyVocabularies.BPE, ""));
        }
        for (int j = 0; j < blending.size(); j++) {
            if (!base.equals(TinyVocabularies.SP) && (base.endsWith(blending.get(j)) || blending.get(j).endsWith(base))) {
                return j;
            }
        }
        // find_map_idx: consume the pivot piece by the source pieces that start what is left of it.
        List<Integer> mapped = new ArrayList<>();
        String rest = base;
        for (int k = 0; k < blending.size(); k++) {
            if (rest.startsWith(blending.get(k))) {
                mapped.add(k);
                rest = rest.substring(blending.get(k).length());
            }
        }
        if (!rest.isEmpty()) {
            mapped.clear();
        }
        String all = String.join("", blending);
        if (!mapped.isEmpty() || all.endsWith(base) || base.endsWith(all)) {
            StringBuilder joined = new StringBuilder();
            for (int k : mapped) {
                joined.append(blending.get(k));
            }
            if (base.equals(joined.toString())) {
                return mapped.get(mapped.size() - 1);
            }
            return EMPTY;
        }
        return ONE_HOT;
    }

    private static String randomString(Random random, String alphabet, int maxLength) {
        int length = random.nextInt(maxLength + 1);
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < length; k++) {
            sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
