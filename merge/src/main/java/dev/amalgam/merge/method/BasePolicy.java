package dev.amalgam.merge.method;

/** How a merge method uses {@code base_model}. */
public enum BasePolicy {
    /** The method needs a base model (task vectors are taken against it). */
    REQUIRED,
    /** A base model is used when given. */
    OPTIONAL,
    /** {@code base_model} is ignored; only the listed models are merged. */
    IGNORED
}
