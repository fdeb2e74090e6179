package dev.amalgam.fusion.fusechat.align;

/**
 * The cost of pairing a source token string with a pivot token string in the dynamic time warping, each
 * variant as one of the authors' scripts computes it. {@code source} and {@code pivot} are the per-token
 * strings handed to {@link DtwAlignment#align}.
 */
@FunctionalInterface
public interface TokenCost {

    double cost(String source, String pivot);

    /**
     * FuseChat-2.0: remove each side's word marker; if either string becomes empty, compare the source with its
     * marker rewritten to the pivot's against the untouched pivot string instead; cost = edit distance.
     */
    static TokenCost fuseChatV2(String sourceMarker, String pivotMarker) {
        return (source, pivot) -> {
            String a = source.replace(sourceMarker, "");
            String b = pivot.replace(pivotMarker, "");
            if (a.isEmpty() || b.isEmpty()) {
                a = source.replace(sourceMarker, pivotMarker);
                b = pivot;
            }
            return EditDistance.between(a, b);
        };
    }

    /**
     * FuseChat 1.0: remove each side's word marker; cost = edit distance, times 0.1 when one string contains
     * the other (an empty string is contained in every string).
     */
    static TokenCost fuseChatV1(String sourceMarker, String pivotMarker) {
        return (source, pivot) -> {
            String a = source.replace(sourceMarker, "");
            String b = pivot.replace(pivotMarker, "");
            double w = (b.contains(a) || a.contains(b)) ? 0.1 : 1.0;
            return EditDistance.between(a, b) * w;
        };
    }

    /** FuseLLM: remove each side's word marker; cost = edit distance. */
    static TokenCost fuseLlm(String sourceMarker, String pivotMarker) {
        return (source, pivot) -> EditDistance.between(source.replace(sourceMarker, ""), pivot.replace(pivotMarker, ""));
    }
}
