package dev.amalgam.platform.artifact;

import java.time.OffsetDateTime;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * A published, immutable set of files with checksums and metadata.
 *
 * @param storagePath absolute path of the artifact's directory in the store (never shown to clients)
 * @param metadata    for models: architecture, layers, hidden size, vocab size, parameter count, dtype
 */
public record Artifact(UUID id, UUID tenantId, ArtifactKind kind, String name, String status, String storagePath,
                       long sizeBytes, JsonNode metadata, UUID producingJobId, OffsetDateTime createdAt) {

    public boolean isReady() {
        return "READY".equals(status);
    }

    /** The artifact's directory in the store. */
    public java.nio.file.Path dir() {
        return java.nio.file.Path.of(storagePath);
    }

    /**
     * Where a dataset's records are: its one file, or its directory when it holds several files (a dataset uploaded
     * as a tar or imported as a directory, e.g. a hub snapshot with split files).
     */
    public java.nio.file.Path datasetLocation() {
        try (var files = java.nio.file.Files.walk(dir())) {
            var all = files.filter(java.nio.file.Files::isRegularFile).limit(2).toList();
            return all.size() == 1 ? all.get(0) : dir();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The file of a one-file artifact (a dataset, a report); fails when there are several or none. */
    public java.nio.file.Path singleFile() {
        try (var files = java.nio.file.Files.walk(dir())) {
            var all = files.filter(java.nio.file.Files::isRegularFile).toList();
            if (all.size() != 1) {
                throw new IllegalStateException("Artifact '" + name + "' holds " + all.size() + " files, expected exactly one");
            }
            return all.get(0);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
