package dev.amalgam.platform.artifact;

/** What an artifact holds. */
public enum ArtifactKind {
    /** A Hugging Face model directory (config.json, safetensors, tokenizer files). */
    MODEL,
    /** A dataset file (JSONL). */
    DATASET,
    /** A report a job produced (JSON). */
    REPORT,
    /** Intermediate training or search state. */
    CHECKPOINT
}
