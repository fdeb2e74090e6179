package dev.amalgam.fusion.fusechat;

/** Whether the fusion function compares candidates once per sample or at every position. */
public enum MetricLevel {
    /** One metric_ce per sample and candidate (the authors' default). */
    SEQUENCE,
    /** The per-position CE (see {@link FusionCandidate#tokenCe()}). */
    TOKEN
}
