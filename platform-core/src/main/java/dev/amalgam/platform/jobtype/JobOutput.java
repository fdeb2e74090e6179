package dev.amalgam.platform.jobtype;

import dev.amalgam.platform.artifact.ArtifactKind;
import java.nio.file.Path;

/**
 * One output of a job, staged in a directory of its own.
 *
 * @param role what it is to the job ({@code model}, {@code report}, ...): the CLI writes it to {@code OUT/role}
 * @param name the artifact name it is published under
 */
public record JobOutput(ArtifactKind kind, String role, String name, Path stagedDir) {
}
