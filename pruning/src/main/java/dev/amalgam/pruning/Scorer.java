package dev.amalgam.pruning;

/** Perplexity of the current model minus a candidate; the seam between the search loops and the forward. */
interface Scorer {

    /** Calibration perplexity with {@code positions} also skipped (empty: the current model). */
    double score(int[] positions);

    /** Makes {@code positions} part of the current model's removed set. */
    void remove(int[] positions);
}
