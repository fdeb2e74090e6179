package dev.amalgam.fusion.fusechat;

/** How FuseChat combines the candidates' distributions into one target (see {@link KnowledgeFusion}). */
public enum FusionFunction {
    /** The candidate with the lowest cross-entropy against the gold labels (the authors' default). */
    MIN_CE,
    /** All candidates mixed with weights softmax(exp(-CE)). */
    AVG_CE
}
