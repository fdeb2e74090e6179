package dev.amalgam.platform.jobtype.wordcount;

/**
 * The spec of the test-only word-count job.
 *
 * @param dataset   a DATASET (one JSONL file with a "text" per line)
 * @param name      the REPORT artifact to publish
 * @param minLength words shorter than this are not counted (1..100, default 1)
 */
public record WordCountSpec(String dataset, String name, Integer minLength) {
}
