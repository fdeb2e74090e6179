package dev.amalgam.platform.jobtype;

import dev.amalgam.platform.artifact.ArtifactKind;
import java.nio.file.Path;
import java.util.UUID;

/**
 * An input a job reads, resolved from the reference in its spec.
 *
 * @param reference  what the spec wrote (an artifact id or name; a path in the CLI)
 * @param artifactId the registry's artifact, or null for a local path
 * @param location   a model's directory, or a dataset's one file
 */
public record JobInput(String reference, UUID artifactId, String name, ArtifactKind kind, Path location) {
}
