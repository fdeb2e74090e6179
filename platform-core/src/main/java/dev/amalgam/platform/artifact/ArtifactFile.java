package dev.amalgam.platform.artifact;

/** One file of an artifact, relative to the artifact's directory, with its size and sha256 (hex). */
public record ArtifactFile(String path, long sizeBytes, String sha256) {
}
