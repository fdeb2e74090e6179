package dev.amalgam.fusion.fusechat.align;

import java.util.Arrays;
import java.util.Map;

/**
 * A map from every source token id to one pivot token id, used when a token of the source's top-k has no
 * identical pivot token. Two ways to build it, as in the authors' code:
 *
 * <ul>
 *   <li>{@link #minEditDistance MinED} (FuseLLM): the source token with its word marker rewritten to the
 *       pivot's; the identical pivot token if there is one, else the pivot token at the smallest edit distance,
 *       the lowest id on ties.</li>
 *   <li>{@link #mostSimilar MS} (FuseChat-2.0's default): among the pivot tokens the source token was aligned
 *       with in the corpus ({@link CoOccurrenceCounts}), the one minimising {@code sigmoid(count) * d}, where d
 *       is the v1 token distance (edit distance without markers, times 0.1 if one string contains the other);
 *       the lowest pivot id on ties; never aligned: the pivot's unk (its eos if it has no unk); the source's
 *       bos and eos map to the pivot's bos and eos.</li>
 * </ul>
 *
 * @param sourceToPivot pivot id of each source id, length = the source vocabulary's size
 */
public record VocabMapping(int[] sourceToPivot) {

    public VocabMapping {
        sourceToPivot = sourceToPivot.clone();
    }

    /** A copy of the map. */
    @Override
    public int[] sourceToPivot() {
        return sourceToPivot.clone();
    }

    public int pivotId(int sourceId) {
        if (sourceId < 0 || sourceId >= sourceToPivot.length) {
            throw new IllegalArgumentException("source id " + sourceId + " is outside the mapping [0, "
                    + sourceToPivot.length + ")");
        }
        return sourceToPivot[sourceId];
    }

    public int size() {
        return sourceToPivot.length;
    }

    /** MinED: exact string after rewriting the marker, else minimal edit distance over the pivot vocabulary. */
    public static VocabMapping minEditDistance(Vocabulary source, Vocabulary pivot) {
        int[] map = new int[source.size()];
        for (int s = 0; s < source.size(); s++) {
            String t = source.token(s).replace(source.wordMarker(), pivot.wordMarker());
            int exact = pivot.id(t);
            if (exact != Vocabulary.NONE) {
                map[s] = exact;
                continue;
            }
            int best = 0;
            int bestDistance = Integer.MAX_VALUE;
            for (int p = 0; p < pivot.size(); p++) {
                int d = EditDistance.between(t, pivot.token(p));
                if (d < bestDistance) { // strict: the lowest id wins a tie
                    bestDistance = d;
                    best = p;
                }
            }
            map[s] = best;
        }
        return new VocabMapping(map);
    }

    /** MS: the co-occurrence variant of FuseChat-2.0 (see the type's description). */
    public static VocabMapping mostSimilar(CoOccurrenceCounts counts, Vocabulary source, Vocabulary pivot) {
        int unmatched = pivot.unkId() != Vocabulary.NONE ? pivot.unkId() : pivot.eosId();
        if (unmatched == Vocabulary.NONE) {
            throw new IllegalArgumentException("the pivot vocabulary has neither an unk nor an eos id to map "
                    + "never-aligned source tokens to");
        }
        int[] map = new int[source.size()];
        Arrays.fill(map, unmatched);
        for (int s = 0; s < source.size(); s++) {
            Map<Integer, Long> candidates = counts.pivotCounts(s);
            double best = Double.POSITIVE_INFINITY;
            for (Map.Entry<Integer, Long> e : candidates.entrySet()) {
                int p = e.getKey();
                if (p >= pivot.size()) {
                    throw new IllegalArgumentException("co-occurrence counts name pivot id " + p
                            + ", outside the pivot vocabulary [0, " + pivot.size() + ")");
                }
                // As the authors: a larger count makes the sigmoid weight larger, i.e. slightly penalises the pair.
                double weighted = mappingDistance(source.token(s), pivot.token(p), source.wordMarker(),
                        pivot.wordMarker()) * sigmoid(e.getValue());
                if (weighted < best) {
                    best = weighted;
                    map[s] = p;
                }
            }
        }
        if (source.bosId() != Vocabulary.NONE && pivot.bosId() != Vocabulary.NONE) {
            map[source.bosId()] = pivot.bosId();
        }
        if (source.eosId() != Vocabulary.NONE && pivot.eosId() != Vocabulary.NONE) {
            map[source.eosId()] = pivot.eosId();
        }
        return new VocabMapping(map);
    }

    /**
     * The distance MS ranks by: markers removed (if either string becomes empty, the source with its marker
     * rewritten against the raw pivot string), edit distance, times 0.1 if one contains the other.
     */
    static double mappingDistance(String source, String pivot, String sourceMarker, String pivotMarker) {
        String a = source.replace(sourceMarker, "");
        String b = pivot.replace(pivotMarker, "");
        if (a.isEmpty() || b.isEmpty()) {
            a = source.replace(sourceMarker, pivotMarker);
            b = pivot;
        }
        double w = (a.contains(b) || b.contains(a)) ? 0.1 : 1.0;
        return EditDistance.between(a, b) * w;
    }

    private static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VocabMapping other && Arrays.equals(sourceToPivot, other.sourceToPivot);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(sourceToPivot);
    }

    @Override
    public String toString() {
        return "VocabMapping" + Arrays.toString(sourceToPivot);
    }
}
