package dev.amalgam.platform.artifact;

import dev.amalgam.platform.config.AmalgamProperties;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.error.ProblemType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.springframework.http.HttpStatus;

/** Artifact operations on behalf of a tenant: import, upload, read, resolve references, delete. */
public class ArtifactService {

    /** Names are used in specs and URLs: letters, digits and . _ - / only. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,199}");

    private final ArtifactRepository repository;
    private final ArtifactStore store;
    private final AmalgamProperties properties;

    public ArtifactService(ArtifactRepository repository, ArtifactStore store, AmalgamProperties properties) {
        this.repository = repository;
        this.store = store;
        this.properties = properties;
    }

    /** The tenant's artifact; 404 for a missing one and for another tenant's. */
    public Artifact get(UUID tenant, UUID id) {
        return repository.find(id).filter(a -> a.tenantId().equals(tenant) && a.isReady())
                .orElseThrow(() -> ApiException.notFound("Artifact", id));
    }

    /**
     * Resolves what a spec names, an artifact id or a name, to the tenant's READY artifact of the
     * expected kind; adds a readable problem to {@code errors} and returns null otherwise.
     */
    public Artifact resolve(UUID tenant, String ref, ArtifactKind expected, String field, List<String> errors) {
        if (ref == null || ref.isBlank()) {
            errors.add(field + ": an artifact id or name is required");
            return null;
        }
        Artifact found = null;
        try {
            UUID id = UUID.fromString(ref);
            found = repository.find(id).filter(a -> a.tenantId().equals(tenant) && a.isReady()).orElse(null);
        } catch (IllegalArgumentException notAnId) {
            found = repository.findReadyByName(tenant, ref).orElse(null);
        }
        if (found == null) {
            errors.add(field + ": no artifact '" + ref + "'");
            return null;
        }
        if (expected != null && found.kind() != expected) {
            errors.add(field + ": artifact '" + ref + "' is a " + found.kind() + ", expected a " + expected);
            return null;
        }
        return found;
    }

    /**
     * Like {@link #resolve} for a DATASET that must be one JSONL file (what the training, pruning and
     * evaluation jobs read); null, with a problem added, otherwise.
     */
    public Artifact resolveJsonl(UUID tenant, String ref, String field, List<String> errors) {
        Artifact a = resolve(tenant, ref, ArtifactKind.DATASET, field, errors);
        if (a != null && !a.metadata().path("format").asString("").equals("jsonl")) {
            errors.add(field + ": '" + a.name() + "' is not a single JSONL file");
            return null;
        }
        return a;
    }

    /** Adds a problem under {@code field} for each of {@code names} the tenant already uses for a live artifact. */
    public void requireNamesFree(UUID tenant, String field, List<String> names, List<String> errors) {
        for (String name : names) {
            if (exists(tenant, name)) {
                errors.add(field + ": an artifact named '" + name + "' already exists");
            }
        }
    }

    /** Whether the tenant has a live artifact of this name (names are unique among live artifacts). */
    public boolean exists(UUID tenant, String name) {
        return repository.findReadyByName(tenant, name).isPresent();
    }

    public List<Artifact> list(UUID tenant, ArtifactKind kind, String nameContains, int page, int size) {
        return repository.list(tenant, kind, nameContains, page, size);
    }

    public long count(UUID tenant, ArtifactKind kind, String nameContains) {
        return repository.count(tenant, kind, nameContains);
    }

    public List<ArtifactFile> files(UUID tenant, UUID id) {
        return repository.files(get(tenant, id).id());
    }

    public Path file(UUID tenant, UUID id, String path) {
        Artifact a = get(tenant, id);
        if (repository.files(a.id()).stream().noneMatch(f -> f.path().equals(path))) {
            throw ApiException.notFound("File", path);
        }
        return store.file(a, path);
    }

    /** Deletes an artifact no queued or running job reads; lineage keeps its record (status DELETED). */
    public void delete(UUID tenant, UUID id) {
        Artifact a = get(tenant, id);
        List<UUID> consumers = repository.liveConsumers(id);
        if (!consumers.isEmpty()) {
            throw ApiException.conflict("Artifact " + id + " is an input of live jobs " + consumers + "; cancel them or wait");
        }
        if (repository.markDeleted(id)) {
            store.deleteFiles(a);
        }
    }

    /**
     * Registers a model directory or dataset file found under the configured import root. The files are
     * copied into the store, so later changes to the source never alter the artifact's checksummed bytes.
     */
    public Artifact importFromRoot(UUID tenant, ArtifactKind kind, String name, String relativePath) {
        List<String> errors = new ArrayList<>();
        checkName(name, errors);
        if (kind == null) {
            errors.add("kind: required (MODEL, DATASET, REPORT or CHECKPOINT)");
        }
        Path root = properties.importRoot();
        if (root == null) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, ProblemType.VALIDATION,
                    "Import from disk is disabled: set amalgam.import-root", List.of("path: import is disabled on this server"));
        }
        Path source = null;
        if (relativePath == null || relativePath.isBlank()) {
            errors.add("path: required, relative to the import root");
        } else {
            source = root.toAbsolutePath().normalize().resolve(relativePath).normalize();
            if (!source.startsWith(root.toAbsolutePath().normalize())) {
                errors.add("path: must stay inside the import root");
            } else if (!Files.exists(source)) {
                errors.add("path: '" + relativePath + "' does not exist under the import root");
            } else if (kind == ArtifactKind.MODEL && !Files.isRegularFile(source.resolve("config.json"))) {
                errors.add("path: '" + relativePath + "' is not a model directory (no config.json)");
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        Path staged = store.newStagingDir();
        try {
            if (Files.isDirectory(source)) {
                copyTree(source, staged);
            } else {
                Files.copy(source, staged.resolve(source.getFileName().toString()));
            }
        } catch (IOException e) {
            ArtifactStore.deleteQuietly(staged);
            throw new UncheckedIOException("Could not import " + relativePath, e);
        }
        return publishChecked(new ArtifactStore.Publication(tenant, kind, name, staged, null, List.of()));
    }

    /** Stores one uploaded file (a dataset, a report) as an artifact. */
    public Artifact uploadFile(UUID tenant, ArtifactKind kind, String name, String fileName, InputStream content) {
        List<String> errors = new ArrayList<>();
        checkName(name, errors);
        if (fileName == null || fileName.isBlank() || fileName.contains("/") || fileName.contains("\\") || fileName.startsWith(".")) {
            errors.add("file: a plain file name is required");
        }
        if (kind == ArtifactKind.MODEL) {
            errors.add("kind: a model is a directory: upload it as a tar (Content-Type application/x-tar)");
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        Path staged = store.newStagingDir();
        try {
            Files.copy(content, staged.resolve(fileName));
        } catch (IOException e) {
            ArtifactStore.deleteQuietly(staged);
            throw new UncheckedIOException("Could not store the upload", e);
        }
        return publishChecked(new ArtifactStore.Publication(tenant, kind, name, staged, null, List.of()));
    }

    /** Stores an uploaded tar of a directory (a model: config.json, safetensors, tokenizer files). */
    public Artifact uploadTar(UUID tenant, ArtifactKind kind, String name, InputStream tar) {
        List<String> errors = new ArrayList<>();
        checkName(name, errors);
        if (kind == null) {
            errors.add("kind: required");
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        Path staged = store.newStagingDir();
        try {
            extractTar(tar, staged);
            Path root = singleTopDirectory(staged);
            if (kind == ArtifactKind.MODEL && !Files.isRegularFile(root.resolve("config.json"))) {
                throw ApiException.invalid(List.of("file: the tar holds no config.json: not a Hugging Face model directory"));
            }
            if (!root.equals(staged)) {
                Path flattened = store.newStagingDir();
                Files.delete(flattened);
                Files.move(root, flattened, StandardCopyOption.ATOMIC_MOVE);
                ArtifactStore.deleteQuietly(staged);
                staged = flattened;
            }
        } catch (IOException e) {
            ArtifactStore.deleteQuietly(staged);
            throw new ApiException(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST, "The tar could not be read: " + e.getMessage());
        } catch (RuntimeException e) {
            ArtifactStore.deleteQuietly(staged);
            throw e;
        }
        return publishChecked(new ArtifactStore.Publication(tenant, kind, name, staged, null, List.of()));
    }

    private Artifact publishChecked(ArtifactStore.Publication p) {
        try {
            return store.publish(p);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(List.of(e.getMessage()));
        } catch (RuntimeException e) {
            if (e.getCause() instanceof IllegalArgumentException iae) {
                throw ApiException.invalid(List.of(iae.getMessage()));
            }
            throw e;
        }
    }

    /** What {@link #isValidName} demands, for problem texts. */
    public static final String NAME_RULE = "1-200 characters of letters, digits and . _ - /, starting with a letter or digit,"
            + " without '..'";

    /** Whether {@code name} may name an artifact: it appears in specs, URLs and the store's records. */
    public static boolean isValidName(String name) {
        return name != null && NAME.matcher(name).matches() && !name.contains("..");
    }

    static void checkName(String name, List<String> errors) {
        if (!isValidName(name)) {
            errors.add("name: " + NAME_RULE);
        }
    }

    private static void extractTar(InputStream in, Path into) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path target = into.resolve(entry.getName()).normalize();
                if (!target.startsWith(into)) {
                    throw new IOException("entry '" + entry.getName() + "' escapes the archive");
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else if (entry.isFile()) {
                    Files.createDirectories(target.getParent());
                    Files.copy(tar, target);
                } else {
                    throw new IOException("entry '" + entry.getName() + "' is a link or device; only files and directories are accepted");
                }
            }
        }
    }

    /** A tar of "mymodel/..." holds one top directory; the artifact is its content. */
    private static Path singleTopDirectory(Path dir) throws IOException {
        try (Stream<Path> children = Files.list(dir)) {
            List<Path> all = children.filter(p -> !p.getFileName().toString().startsWith("._")).toList();
            if (all.size() == 1 && Files.isDirectory(all.get(0))) {
                return all.get(0);
            }
        }
        return dir;
    }

    private static void copyTree(Path source, Path target) throws IOException {
        try (Stream<Path> walk = Files.walk(source)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path t = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else if (Files.isRegularFile(p)) {
                    Files.copy(p, t);
                }
            }
        }
    }
}
