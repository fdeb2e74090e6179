package dev.amalgam.modelengine.generate;

/** Why a generated sequence ended. */
public enum FinishReason {
    /** An end-of-sequence token was produced. */
    EOS,
    /** maxNewTokens was reached. */
    LENGTH,
    /** The caller ended it (a {@link Generator.TokenListener} saw a stop sequence). */
    STOP
}
