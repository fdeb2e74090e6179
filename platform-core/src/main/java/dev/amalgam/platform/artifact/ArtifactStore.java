package dev.amalgam.platform.artifact;

import dev.amalgam.platform.config.AmalgamProperties;
import dev.amalgam.platform.error.ApiException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.JsonNode;

/**
 * The local artifact store. Producers write into a private staging directory; {@link #publish}
 * checksums every file, moves the directory into the store with one atomic rename and only then
 * registers it, so a reader never sees a partial artifact and a failed job leaves none behind.
 */
public class ArtifactStore {

    private final AmalgamProperties properties;
    private final ArtifactRepository repository;
    private final ArtifactMetadataReader metadataReader;
    private final TransactionTemplate tx;

    public ArtifactStore(AmalgamProperties properties, ArtifactRepository repository, ArtifactMetadataReader metadataReader,
                         TransactionTemplate tx) {
        this.properties = properties;
        this.repository = repository;
        this.metadataReader = metadataReader;
        this.tx = tx;
    }

    /** What to publish: the staged directory and how the artifact is known. */
    public record Publication(UUID tenantId, ArtifactKind kind, String name, Path stagedDir, UUID producingJobId,
                              List<UUID> inputs) {
        public Publication {
            inputs = inputs == null ? List.of() : List.copyOf(inputs);
        }
    }

    /** A fresh, empty, private directory to write outputs into before publishing them. */
    public Path newStagingDir() {
        try {
            Files.createDirectories(properties.stagingDir());
            return Files.createTempDirectory(properties.stagingDir(), "stage-");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create a staging directory under " + properties.stagingDir(), e);
        }
    }

    /**
     * Publishes a staged directory as a READY artifact: checksums, metadata, atomic move, registry rows
     * (with lineage to the producing job and its inputs). On any failure the staged files are removed.
     */
    public Artifact publish(Publication p) {
        Path target = properties.artifactDir().resolve(UUID.randomUUID().toString());
        boolean moved = false;
        try {
            // jobs publish names from their specs: a spec stored before its names were checked must not get through
            if (!ArtifactService.isValidName(p.name())) {
                throw new IllegalArgumentException("name: " + ArtifactService.NAME_RULE);
            }
            if (repository.findReadyByName(p.tenantId(), p.name()).isPresent()) {
                throw ApiException.conflict("An artifact named '" + p.name() + "' already exists");
            }
            List<ArtifactFile> files = checksum(p.stagedDir());
            if (files.isEmpty()) {
                throw new IllegalArgumentException("Nothing to publish: " + p.stagedDir() + " is empty");
            }
            JsonNode metadata = metadataReader.read(p.kind(), p.stagedDir(), files);
            long size = files.stream().mapToLong(ArtifactFile::sizeBytes).sum();
            Files.createDirectories(target.getParent());
            Files.move(p.stagedDir(), target, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
            UUID id = UUID.fromString(target.getFileName().toString());
            Artifact artifact = new Artifact(id, p.tenantId(), p.kind(), p.name(), "READY", target.toAbsolutePath().toString(),
                    size, metadata, p.producingJobId(), null);
            tx.executeWithoutResult(s -> repository.insert(artifact, files, p.inputs()));
            return repository.find(id).orElseThrow();
        } catch (DuplicateKeyException e) {
            deleteQuietly(moved ? target : p.stagedDir());
            throw ApiException.conflict("An artifact named '" + p.name() + "' already exists");
        } catch (IOException e) {
            deleteQuietly(moved ? target : p.stagedDir());
            throw new UncheckedIOException("Could not publish artifact '" + p.name() + "'", e);
        } catch (RuntimeException e) {
            deleteQuietly(moved ? target : p.stagedDir());
            throw e;
        }
    }

    /** The persistent working directory of a job (see JobContext.workDir). */
    public Path workDir(UUID jobId) {
        return properties.dataDir().resolve("work").resolve(jobId.toString());
    }

    /** Removes the files of an artifact already marked DELETED. */
    public void deleteFiles(Artifact artifact) {
        deleteQuietly(Path.of(artifact.storagePath()));
    }

    /** Resolves a file of an artifact, refusing paths that escape its directory. */
    public Path file(Artifact artifact, String relative) {
        Path root = Path.of(artifact.storagePath());
        Path file = root.resolve(relative).normalize();
        if (!file.startsWith(root) || !Files.isRegularFile(file)) {
            throw ApiException.notFound("File", relative);
        }
        return file;
    }

    /** Every regular file under a directory with its size and sha256, paths relative and '/'-separated. */
    public static List<ArtifactFile> checksum(Path dir) throws IOException {
        List<ArtifactFile> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) walk.filter(Files::isRegularFile).sorted()::iterator) {
                String rel = dir.relativize(f).toString().replace('\\', '/');
                files.add(new ArtifactFile(rel, Files.size(f), sha256(f)));
            }
        }
        return files;
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Deletes a file or directory tree, ignoring what is already gone. */
    public static void deleteQuietly(Path path) {
        if (path == null || !Files.exists(path)) {
            return;
        }
        try {
            Files.walkFileTree(path, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // best effort: a leftover staging directory is harmless and cleaned on the next start
        }
    }

    /**
     * Removes staging directories left by processes that died mid-write. Only old ones: other workers
     * sharing the volume may be writing into theirs right now.
     */
    public void cleanStaging(java.time.Duration olderThan) {
        Path staging = properties.stagingDir();
        if (!Files.isDirectory(staging)) {
            return;
        }
        java.time.Instant cutoff = java.time.Instant.now().minus(olderThan);
        try (Stream<Path> dirs = Files.list(staging)) {
            dirs.filter(d -> isOlderThan(d, cutoff)).forEach(ArtifactStore::deleteQuietly);
        } catch (IOException ignored) {
            // nothing to clean
        }
    }

    private static boolean isOlderThan(Path p, java.time.Instant cutoff) {
        try {
            return Files.getLastModifiedTime(p).toInstant().isBefore(cutoff);
        } catch (IOException e) {
            return false;
        }
    }
}
