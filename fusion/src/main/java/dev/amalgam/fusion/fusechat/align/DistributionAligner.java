package dev.amalgam.fusion.fusechat.align;

import java.util.ArrayList;
import java.util.List;

/**
 * Moves a source model's per-position top-k distributions onto the pivot's positions and vocabulary, with
 * FuseChat-2.0's rules (its default "MS" alignment, {@code transform_step_logits} with
 * {@code use_token_alignment_matrix}). For pivot position i and the source positions the {@link DtwAlignment}
 * gives it:
 *
 * <ul>
 *   <li><b>one source position j</b> (1:1, or n:1 when several pivot positions share j): if the pivot piece
 *       ends with the source piece (its marker rewritten to the pivot's) or the other way round, the source's
 *       top-k at j, each id {@link #mapToPivot mapped}; the later pivot positions of a split word thus learn the
 *       source's next-token distribution of the whole word. Otherwise the one-hot fallback.</li>
 *   <li><b>several source positions</b> (1:n): with {@code resolveOneToMany}, the first of them (in text order)
 *       whose piece, markers removed, ends the pivot piece or is ended by it (markers removed) gives its mapped
 *       top-k; if none does, the one-hot fallback. Without {@code resolveOneToMany}: always the one-hot.</li>
 *   <li><b>one-hot fallback</b>: logit 1.0 on the pivot's gold next token, the pivot id at i + 1 (at the last
 *       position, the last pivot id itself, as the authors' shifted labels repeat their last entry).</li>
 * </ul>
 *
 * <p>Mapping a source top-k id: its raw token string with the source marker rewritten to the pivot's, if the
 * pivot vocabulary has that string; otherwise the {@link VocabMapping}'s pivot id. Ids that land on a pivot id
 * already taken are dropped, keeping the first (the larger logit).
 *
 * <p>The authors' 1:n branch goes on, when no piece matched, to a greedy prefix split of the pivot piece over
 * the source pieces; that branch can only produce the one-hot or an empty distribution and, as the class's
 * tests check against a transcription of it, never differs from the rule above: if the pieces spell the pivot
 * piece, the last one ends it and is found by the first rule already.
 */
public final class DistributionAligner {

    private final Vocabulary pivot;
    private final Vocabulary source;
    private final VocabMapping mapping;
    private final boolean resolveOneToMany;

    /**
     * @param pivot the pivot's vocabulary
     * @param source the source's vocabulary
     * @param mapping source id to pivot id (MinED or MS), for top-k tokens the pivot does not have
     * @param resolveOneToMany the authors' {@code use_token_alignment_matrix} (on in their published recipe)
     */
    public DistributionAligner(Vocabulary pivot, Vocabulary source, VocabMapping mapping, boolean resolveOneToMany) {
        if (mapping.size() != source.size()) {
            throw new IllegalArgumentException("vocabulary mapping covers " + mapping.size()
                    + " source ids but the source vocabulary has " + source.size());
        }
        this.pivot = pivot;
        this.source = source;
        this.mapping = mapping;
        this.resolveOneToMany = resolveOneToMany;
    }

    /** Aligns with FuseChat-2.0's DTW ({@link DtwAlignment#fuseChatV2}) over the two texts' pieces. */
    public List<TopK> align(TokenizedText pivotText, TokenizedText sourceText, List<TopK> sourceTopK) {
        DtwAlignment alignment = DtwAlignment.fuseChatV2(sourceText.pieces(), pivotText.pieces(), source.wordMarker(),
                pivot.wordMarker());
        return align(pivotText, sourceText, sourceTopK, alignment);
    }

    /**
     * @return one {@link TopK} per pivot position, in pivot ids (empty only where the chosen source top-k is)
     */
    public List<TopK> align(TokenizedText pivotText, TokenizedText sourceText, List<TopK> sourceTopK,
                            DtwAlignment alignment) {
        if (sourceTopK.size() != sourceText.length()) {
            throw new IllegalArgumentException("source top-k has " + sourceTopK.size() + " positions but the source "
                    + "text has " + sourceText.length() + " tokens");
        }
        if (alignment.pivotToSource().size() != pivotText.length()
                || alignment.sourceToPivot().size() != sourceText.length()) {
            throw new IllegalArgumentException("the alignment does not cover these texts (" + pivotText.length()
                    + " pivot, " + sourceText.length() + " source tokens)");
        }
        String pm = pivot.wordMarker();
        String sm = source.wordMarker();
        List<TopK> out = new ArrayList<>(pivotText.length());
        for (int i = 0; i < pivotText.length(); i++) {
            int[] aligned = alignment.pivotToSource().get(i);
            String pivotPiece = pivotText.pieces().get(i);
            int chosen = -1;
            if (aligned.length == 1) {
                String sourcePiece = sourceText.pieces().get(aligned[0]).replace(sm, pm);
                if (sourcePiece.endsWith(pivotPiece) || pivotPiece.endsWith(sourcePiece)) {
                    chosen = aligned[0];
                }
            } else if (resolveOneToMany) {
                String p = pivotPiece.replace(pm, "");
                for (int j : aligned) {
                    String s = sourceText.pieces().get(j).replace(sm, "");
                    if (p.endsWith(s) || s.endsWith(p)) {
                        chosen = j;
                        break;
                    }
                }
            }
            if (chosen >= 0) {
                out.add(mapToPivot(sourceTopK.get(chosen), chosen));
            } else {
                int next = Math.min(i + 1, pivotText.length() - 1);
                out.add(TopK.oneHot(checkPivotId(pivotText.id(next), next)));
            }
        }
        return out;
    }

    /** Maps one source top-k to pivot ids (exact string after the marker rewrite, else the vocabulary mapping). */
    public TopK mapToPivot(TopK sourceTopK) {
        return mapToPivot(sourceTopK, -1);
    }

    private TopK mapToPivot(TopK topK, int position) {
        int[] ids = new int[topK.size()];
        float[] logits = new float[topK.size()];
        int n = 0;
        for (int k = 0; k < topK.size(); k++) {
            int sourceId = topK.id(k);
            if (sourceId < 0 || sourceId >= source.size()) {
                throw new IllegalArgumentException("source top-k id " + sourceId
                        + (position >= 0 ? " at source position " + position : "")
                        + " is outside the source vocabulary [0, " + source.size()
                        + "); take the top-k over the first len(tokenizer) logits");
            }
            String t = source.token(sourceId).replace(source.wordMarker(), pivot.wordMarker());
            int pivotId = pivot.id(t);
            if (pivotId == Vocabulary.NONE) {
                pivotId = checkPivotId(mapping.pivotId(sourceId), position);
            }
            if (!contains(ids, n, pivotId)) {
                ids[n] = pivotId;
                logits[n] = topK.logit(k);
                n++;
            }
        }
        return new TopK(java.util.Arrays.copyOf(ids, n), java.util.Arrays.copyOf(logits, n));
    }

    private int checkPivotId(int id, int position) {
        if (id < 0 || id >= pivot.size()) {
            throw new IllegalArgumentException("pivot id " + id + (position >= 0 ? " at position " + position : "")
                    + " is outside the pivot vocabulary [0, " + pivot.size() + ")");
        }
        return id;
    }

    private static boolean contains(int[] ids, int n, int id) {
        for (int k = 0; k < n; k++) {
            if (ids[k] == id) {
                return true;
            }
        }
        return false;
    }
}
