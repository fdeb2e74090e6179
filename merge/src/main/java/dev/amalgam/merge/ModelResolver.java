package dev.amalgam.merge;

import java.nio.file.Path;

/**
 * Maps a model reference from a config to a model directory: a path in the CLI, an artifact id or name in the
 * merge-service. Throw {@link IllegalArgumentException} with a readable message for unknown references. It is
 * called with each part of a reference ({@link dev.amalgam.merge.config.ModelReference#paths()}): for
 * {@code model@rev+adapter} with {@code model}, then with {@code adapter} (a PEFT adapter directory).
 */
@FunctionalInterface
public interface ModelResolver {

    /** Resolves a reference to a Hugging Face model directory. */
    Path resolve(String reference);

    /** References are paths, relative ones against {@code baseDir} (the CLI's behaviour). */
    static ModelResolver paths(Path baseDir) {
        return ref -> baseDir.resolve(ref).normalize();
    }
}
