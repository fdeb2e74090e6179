package dev.amalgam.fusion.loss;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The preference losses on offer, each naming its paper. WRPO is the fusion method; the others are the baselines of
 * the WRPO paper, computed from the same records (see {@link PreferenceLosses}).
 */
public enum LossType {
    /** Weighted-Reward Preference Optimization (Yang et al., 2024, arXiv:2412.03187): alpha-weighted dual chosen. */
    WRPO,
    /** Direct Preference Optimization, sigmoid loss (Rafailov et al., 2023, arXiv:2305.18290), on one chosen. */
    DPO,
    /**
     * The WRPO paper's "DPO" row: the mean of DPO(y_ws, y_l) and DPO(y_wt, y_l), both chosen responses against the
     * rejected one (the authors' trainer with its {@code sigmoid} loss type on the two-chosen records).
     */
    DPO_MULTI,
    /** Identity Preference Optimization (Azar et al., 2023, arXiv:2310.12036), on per-token mean log-probs as TRL. */
    IPO,
    /** Simple Preference Optimization (Meng et al., 2024, arXiv:2405.14734): length-normalised, reference-free. */
    SIMPO;

    /** Lower-case name as used in specs ({@code wrpo}, {@code dpo}, {@code dpo_multi}, {@code ipo}, {@code simpo}). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the loss needs reference-model log-probs. */
    public boolean needsReference() {
        return this != SIMPO;
    }

    /**
     * Whether the loss is a log-sigmoid of a margin and so takes label smoothing (all but IPO, whose squared loss
     * has none: TRL ignores {@code label_smoothing} for it).
     */
    public boolean supportsLabelSmoothing() {
        return this != IPO;
    }

    /** Parses a spec name; an unknown name fails with the list of known ones. */
    public static LossType fromId(String id) {
        for (LossType t : values()) {
            if (t.id().equals(id)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown loss '" + id + "' (known: " + known() + ")");
    }

    /** Comma-separated known names. */
    public static String known() {
        return Arrays.stream(values()).map(LossType::id).collect(Collectors.joining(", "));
    }
}
