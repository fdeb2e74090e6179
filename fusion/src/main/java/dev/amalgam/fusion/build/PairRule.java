package dev.amalgam.fusion.build;

import java.util.Locale;

/**
 * How a preference prompt's pair is chosen.
 *
 * <ul>
 *   <li>{@link #WRPO}: y_ws = the best source response; y_wt / y_l = the best / worst of the target's own samples.</li>
 *   <li>{@link #FUSECHAT3}: FuseChat-3.0's pairs (DPO data, no target samples): for each source model, its own best
 *       response against its own worst; a pair is kept when its reward margin lies in [minMargin, maxMargin]
 *       (FuseChat-3.0: [0.01, 0.1]); of the kept pairs the one whose chosen response scores highest becomes the
 *       prompt's record (first source on ties), {@code chosen = [best], rejected = [worst]}.</li>
 * </ul>
 */
public enum PairRule {
    WRPO("wrpo"),
    FUSECHAT3("fusechat3");

    private final String id;

    PairRule(String id) {
        this.id = id;
    }

    /** The spec's spelling. */
    public String id() {
        return id;
    }

    public static PairRule fromId(String id) {
        for (PairRule r : values()) {
            if (r.id.equals(id.toLowerCase(Locale.ROOT))) {
                return r;
            }
        }
        throw new IllegalArgumentException("must be wrpo or fusechat3, got " + id);
    }
}
