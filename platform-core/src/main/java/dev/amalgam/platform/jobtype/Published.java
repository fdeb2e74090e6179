package dev.amalgam.platform.jobtype;

import dev.amalgam.platform.artifact.ArtifactKind;
import java.nio.file.Path;

/**
 * An output once published.
 *
 * @param reference how the job's result names it: the artifact id on the platform, the output path in the CLI
 * @param location  where its files are now
 */
public record Published(ArtifactKind kind, String role, String name, String reference, Path location) {
}
