package dev.amalgam.fusion.fusechat;

/** The fusion term's divergence between the fused target q and the student's softmax p. */
public enum FuseLossType {
    /** Cross-entropy -sum_v q_v log p_v (the authors' default, {@code fuse_loss_type ce}). */
    CE,
    /** KL(q || p) = sum_v q_v (log q_v - log p_v), 0 log 0 = 0; the same gradient as CE. */
    KL
}
