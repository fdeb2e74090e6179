package dev.amalgam.modelengine.generate;

/** Why a generated sequence ended. */
public enum FinishReason {
    /** An end-of-sequence token was produced. */
    EOS,
    /** maxNewTokens was reached. */
    LENGTH
}
