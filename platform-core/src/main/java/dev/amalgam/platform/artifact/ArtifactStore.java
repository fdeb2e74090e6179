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
import java.util.LinkedHashSet;
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

    private static final String STAGING_PREFIX = "stage-";
    /** This host's name as it appears in staging directory names (letters, digits, '.' and '_' only). */
    static final String HOST = hostName();

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

    /**
     * A fresh, empty, private directory to write outputs into before publishing them. Its name says which
     * process made it ({@code stage-<host>-<pid>-...}), so a restart can remove what a dead process left.
     */
    public Path newStagingDir() {
        try {
            Files.createDirectories(properties.stagingDir());
            return Files.createTempDirectory(properties.stagingDir(), STAGING_PREFIX + HOST + "-" + ProcessHandle.current().pid() + "-");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create a staging directory under " + properties.stagingDir(), e);
        }
    }

    /**
     * Publishes a staged directory as a READY artifact: checksums, metadata, atomic move, registry rows
     * (with lineage to the producing job and its inputs). On any failure the staged files are removed.
     */
    public Artifact publish(Publication p) {
        return publishAll(List.of(p)).get(0);
    }

    /**
     * Publishes several staged directories all or nothing, as the outputs of one job: every one is checked
     * (name free, files, metadata) before any is moved, and their registry rows are inserted in one
     * transaction, so a failure leaves none of them published. On any failure every staged and moved
     * directory of the call is removed.
     */
    public List<Artifact> publishAll(List<Publication> publications) {
        List<Path> moved = new ArrayList<>();
        String names = String.join(", ", publications.stream().map(Publication::name).toList());
        try {
            if (publications.stream().map(Publication::name).distinct().count() != publications.size()) {
                throw new IllegalArgumentException("Outputs must have distinct names: " + names);
            }
            List<Prepared> prepared = new ArrayList<>();
            for (Publication p : publications) {
                prepared.add(prepare(p));
            }
            for (Prepared pr : prepared) {
                Files.createDirectories(pr.target().getParent());
                Files.move(pr.publication().stagedDir(), pr.target(), StandardCopyOption.ATOMIC_MOVE);
                moved.add(pr.target());
            }
            tx.executeWithoutResult(s -> prepared.forEach(pr -> repository.insert(pr.artifact(), pr.files(), pr.publication().inputs())));
            return prepared.stream().map(pr -> repository.find(pr.artifact().id()).orElseThrow()).toList();
        } catch (DuplicateKeyException e) {
            discard(publications, moved);
            throw ApiException.conflict("An artifact named " + (publications.size() == 1 ? "'" + names + "'" : "one of '" + names + "'")
                    + " already exists");
        } catch (IOException e) {
            discard(publications, moved);
            throw new UncheckedIOException("Could not publish '" + names + "'", e);
        } catch (RuntimeException e) {
            discard(publications, moved);
            throw e;
        }
    }

    /** A publication checked and described, ready to move into the store. */
    private record Prepared(Publication publication, Artifact artifact, List<ArtifactFile> files, Path target) {
    }

    private Prepared prepare(Publication p) throws IOException {
        // jobs publish names from their specs: a spec stored before its names were checked must not get through
        if (!ArtifactService.isValidName(p.name())) {
            throw new IllegalArgumentException("name: " + ArtifactService.NAME_RULE);
        }
        if (repository.findReadyByName(p.tenantId(), p.name()).isPresent()) {
            throw ApiException.conflict("An artifact named '" + p.name() + "' already exists");
        }
        List<ArtifactFile> files = checksum(p.stagedDir());
        if (files.isEmpty()) {
            throw new IllegalArgumentException("Nothing to publish: the artifact '" + p.name() + "' has no files");
        }
        JsonNode metadata = metadataReader.read(p.kind(), p.stagedDir(), files);
        long size = files.stream().mapToLong(ArtifactFile::sizeBytes).sum();
        UUID id = UUID.randomUUID();
        Path target = properties.artifactDir().resolve(id.toString());
        Artifact artifact = new Artifact(id, p.tenantId(), p.kind(), p.name(), "READY", target.toAbsolutePath().toString(),
                size, metadata, p.producingJobId(), null);
        return new Prepared(p, artifact, files, target);
    }

    private static void discard(List<Publication> publications, List<Path> moved) {
        moved.forEach(ArtifactStore::deleteQuietly);
        publications.forEach(p -> deleteQuietly(p.stagedDir()));
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

    /**
     * {@code message} with {@code dir} left out: paths under it relative to it, the directory itself as
     * "the artifact". Answers to clients never name a path of the server.
     */
    static String withoutDir(String message, Path dir) {
        if (message == null) {
            return null;
        }
        String out = message;
        for (String d : new LinkedHashSet<>(List.of(dir.toAbsolutePath().normalize().toString(), dir.toString()))) {
            out = out.replace(d + dir.getFileSystem().getSeparator(), "").replace(d, "the artifact");
        }
        return out;
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
     * Removes staging directories left by processes that died mid-write: at once those of a process of this
     * host that is no longer alive, and any older than {@code olderThan} (another host's, whose processes
     * cannot be checked from here: they may be writing into theirs right now).
     */
    public void cleanStaging(java.time.Duration olderThan) {
        Path staging = properties.stagingDir();
        if (!Files.isDirectory(staging)) {
            return;
        }
        java.time.Instant cutoff = java.time.Instant.now().minus(olderThan);
        try (Stream<Path> dirs = Files.list(staging)) {
            dirs.filter(d -> leftByADeadProcess(d.getFileName().toString()) || isOlderThan(d, cutoff))
                    .forEach(ArtifactStore::deleteQuietly);
        } catch (IOException ignored) {
            // nothing to clean
        }
    }

    /** Whether a staging directory's name names a process of this host that has ended. */
    static boolean leftByADeadProcess(String name) {
        String own = STAGING_PREFIX + HOST + "-";
        if (!name.startsWith(own)) {
            return false;
        }
        String rest = name.substring(own.length());
        int dash = rest.indexOf('-');
        if (dash <= 0) {
            return false;
        }
        try {
            long pid = Long.parseLong(rest.substring(0, dash));
            return pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String hostName() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "host";
        }
        // no '-': it separates the host from the pid in the name
        return host.replaceAll("[^A-Za-z0-9._]", "_");
    }

    private static boolean isOlderThan(Path p, java.time.Instant cutoff) {
        try {
            return Files.getLastModifiedTime(p).toInstant().isBefore(cutoff);
        } catch (IOException e) {
            return false;
        }
    }
}
