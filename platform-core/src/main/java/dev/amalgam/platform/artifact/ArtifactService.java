package dev.amalgam.platform.artifact;

import dev.amalgam.platform.config.AmalgamProperties;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.error.ProblemType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
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

    /**
     * The tenant's artifact record, READY or DELETED: a deleted artifact stays readable as a record (no
     * files) so the lineage of the jobs that read or made it still leads somewhere. 404 for a missing one and
     * for another tenant's.
     */
    public Artifact record(UUID tenant, UUID id) {
        return repository.find(id).filter(a -> a.tenantId().equals(tenant))
                .orElseThrow(() -> ApiException.notFound("Artifact", id));
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

    /** Like {@link #resolve} for a DATASET that holds exactly one file (of any format); null, with a problem, otherwise. */
    public Artifact resolveSingleFile(UUID tenant, String ref, String field, List<String> errors) {
        Artifact a = resolve(tenant, ref, ArtifactKind.DATASET, field, errors);
        if (a != null && a.metadata().path("files").asInt(0) != 1) {
            errors.add(field + ": '" + a.name() + "' holds " + a.metadata().path("files").asInt(0)
                    + " files, expected exactly one");
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
     * Only regular files and directories that really lie under the root are copied: a symbolic link
     * anywhere in the path or in the tree, or a FIFO, device or socket, refuses the whole import.
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
        Path realRoot = null;
        Path source = null;
        if (relativePath == null || relativePath.isBlank()) {
            errors.add("path: required, relative to the import root");
        } else {
            try {
                // the root itself may be a link (an operator's choice); everything under it is checked
                realRoot = root.toRealPath();
                source = importSource(realRoot, relativePath, errors);
            } catch (IOException e) {
                errors.add("path: '" + relativePath + "' does not exist under the import root");
            }
        }
        List<Path> tree = List.of();
        if (source != null) {
            tree = importableTree(realRoot, source, errors);
            checkImportSize(tree, errors);
            Path config = source.resolve("config.json");
            // a linked config.json already has its problem from the walk
            if (kind == ArtifactKind.MODEL && !Files.isRegularFile(config, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(config)) {
                errors.add("path: '" + relativePath + "' is not a model directory (no config.json)");
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        Path staged = store.newStagingDir();
        try {
            copyTree(source, tree, staged, new UploadLimit(properties.uploads()));
        } catch (IOException e) {
            ArtifactStore.deleteQuietly(staged);
            throw new UncheckedIOException("Could not import " + relativePath, e);
        } catch (RuntimeException e) {
            ArtifactStore.deleteQuietly(staged);
            throw e;
        }
        return publishChecked(new ArtifactStore.Publication(tenant, kind, name, staged, null, List.of()));
    }

    /**
     * The import source named by {@code relativePath}, checked one component at a time so that no
     * component is a symbolic link; null with a problem added when it is not importable.
     */
    private static Path importSource(Path realRoot, String relativePath, List<String> errors) throws IOException {
        Path lexical;
        try {
            lexical = realRoot.resolve(relativePath).normalize();
        } catch (InvalidPathException e) {
            errors.add("path: '" + relativePath.replace('\0', '?') + "' is not a valid path");
            return null;
        }
        if (!lexical.startsWith(realRoot)) {
            errors.add("path: must stay inside the import root");
            return null;
        }
        Path p = realRoot;
        for (Path component : realRoot.relativize(lexical)) {
            p = p.resolve(component.toString());
            if (Files.isSymbolicLink(p)) {
                errors.add(linkProblem(realRoot, p));
                return null;
            }
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                errors.add("path: '" + relativePath + "' does not exist under the import root");
                return null;
            }
        }
        // with no link on the way the real path is the lexical one; checked again in case of a race
        if (!p.toRealPath().startsWith(realRoot)) {
            errors.add("path: must stay inside the import root");
            return null;
        }
        return p;
    }

    /**
     * Every directory and regular file of the tree at {@code source} (itself included), walked without
     * following links; a problem is added for each link and each special file (FIFO, device, socket).
     */
    private static List<Path> importableTree(Path realRoot, Path source, List<String> errors) {
        List<Path> tree = new ArrayList<>();
        try {
            Files.walkFileTree(source, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    tree.add(dir);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    // without FOLLOW_LINKS these are the attributes of the entry itself, never of a link's target
                    if (attrs.isSymbolicLink()) {
                        errors.add(linkProblem(realRoot, file));
                    } else if (!attrs.isRegularFile()) {
                        errors.add("path: '" + relative(realRoot, file) + "' is not a regular file or directory; only those are imported");
                    } else {
                        tree.add(file);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    errors.add("path: '" + relative(realRoot, file) + "' cannot be read");
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            errors.add("path: '" + relative(realRoot, source) + "' cannot be read");
        }
        return tree;
    }

    /**
     * An import is held to the upload limits (amalgam.uploads.*) before anything is copied; the copy counts
     * again, in case a file grows meanwhile.
     */
    private void checkImportSize(List<Path> tree, List<String> errors) {
        AmalgamProperties.Uploads limits = properties.uploads();
        if (tree.size() > limits.maxEntries()) {
            errors.add("path: the tree holds " + tree.size() + " files and directories, more than the "
                    + limits.maxEntries() + " this server accepts (amalgam.uploads.max-entries)");
        }
        long bytes = 0;
        for (Path p : tree) {
            try {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    bytes += Files.size(p);
                }
            } catch (IOException e) {
                // its problem was reported by the walk, or it is reported by the copy
            }
        }
        if (bytes > limits.maxBytes().toBytes()) {
            errors.add("path: the tree holds " + bytes + " bytes, more than the " + UploadLimit.describe(limits.maxBytes().toBytes())
                    + " this server accepts (amalgam.uploads.max-bytes)");
        }
    }

    private static String linkProblem(Path realRoot, Path link) {
        return "path: '" + relative(realRoot, link) + "' is a symbolic link; links are not imported";
    }

    private static String relative(Path realRoot, Path p) {
        return realRoot.relativize(p).toString().replace('\\', '/');
    }

    /** Stores one uploaded file (a dataset, a report) as an artifact; 413 past amalgam.uploads.max-bytes. */
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
            new UploadLimit(properties.uploads()).copy(content, staged.resolve(fileName));
        } catch (IOException e) {
            ArtifactStore.deleteQuietly(staged);
            throw new UncheckedIOException("Could not store the upload", e);
        } catch (RuntimeException e) {
            ArtifactStore.deleteQuietly(staged);
            throw e;
        }
        return publishChecked(new ArtifactStore.Publication(tenant, kind, name, staged, null, List.of()));
    }

    /**
     * Stores an uploaded tar of a directory (a model: config.json, safetensors, tokenizer files); 413
     * past amalgam.uploads.max-bytes (all files together) or max-entries.
     */
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
            extractTar(tar, staged, new UploadLimit(properties.uploads()));
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
            throw new ApiException(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST,
                    "The tar could not be read: " + ArtifactStore.withoutDir(e.getMessage(), staged));
        } catch (RuntimeException e) {
            ArtifactStore.deleteQuietly(staged);
            throw e;
        }
        return publishChecked(new ArtifactStore.Publication(tenant, kind, name, staged, null, List.of()));
    }

    /** Publishes, answering 422 for content the store refuses; the message never names the staging path. */
    private Artifact publishChecked(ArtifactStore.Publication p) {
        try {
            return store.publish(p);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(List.of(ArtifactStore.withoutDir(e.getMessage(), p.stagedDir())));
        } catch (RuntimeException e) {
            if (e.getCause() instanceof IllegalArgumentException iae) {
                throw ApiException.invalid(List.of(ArtifactStore.withoutDir(iae.getMessage(), p.stagedDir())));
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

    /**
     * Extracts regular files and directories only. Anything else (links, devices, FIFOs, sparse, unknown
     * entry types), a name that is not a plain relative path, and an entry that clashes with an earlier
     * one are refused with a 422 naming the entry.
     */
    private static void extractTar(InputStream in, Path into, UploadLimit limit) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                limit.entry(entry.getSize());
                String problem = refusal(entry);
                Path target = problem == null ? into.resolve(entry.getName()).normalize() : null;
                if (problem == null && (!target.startsWith(into) || clashes(into, target, isDirectory(entry)))) {
                    problem = "appears twice, or clashes with an earlier entry";
                }
                if (problem != null) {
                    throw ApiException.invalid(List.of("file: entry '" + printable(entry.getName()) + "' " + problem));
                }
                if (isDirectory(entry)) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    limit.copy(tar, target);
                }
            }
        }
    }

    /** Why an entry is not extracted, or null when it is a regular file or directory with a safe name. */
    private static String refusal(TarArchiveEntry entry) {
        String name = entry.getName();
        if (name.isEmpty()) {
            return "has an empty name";
        }
        if (name.indexOf('\0') >= 0) {
            return "has a NUL in its name";
        }
        // a backslash is a separator elsewhere: "..\x" would be listed as "../x"
        if (name.indexOf('\\') >= 0) {
            return "has a backslash in its name";
        }
        if (name.startsWith("/")) {
            return "has an absolute name";
        }
        if (Arrays.asList(name.split("/")).contains("..")) {
            return "has a '..' component in its name";
        }
        // a reader expands a sparse entry to its full size: a few bytes in the archive, gigabytes on disk
        if (entry.isSparse()) {
            return "is a sparse file; only regular files and directories are accepted";
        }
        byte type = entry.getLinkFlag();
        if (type == TarConstants.LF_NORMAL || type == TarConstants.LF_OLDNORM || type == TarConstants.LF_CONTIG
                || type == TarConstants.LF_DIR) {
            return null;
        }
        return "is " + typeName(type) + "; only regular files and directories are accepted";
    }

    private static String typeName(byte type) {
        return switch (type) {
            case TarConstants.LF_LINK -> "a hard link";
            case TarConstants.LF_SYMLINK -> "a symbolic link";
            case TarConstants.LF_CHR -> "a character device";
            case TarConstants.LF_BLK -> "a block device";
            case TarConstants.LF_FIFO -> "a FIFO";
            case TarConstants.LF_MULTIVOLUME -> "a multi-volume continuation";
            default -> type > ' ' && type < 127 ? "an entry of type '" + (char) type + "'" : "an entry of type " + type;
        };
    }

    /** A directory entry: type '5', or a regular type with a name ending in '/' (old tars). */
    private static boolean isDirectory(TarArchiveEntry entry) {
        return entry.getLinkFlag() == TarConstants.LF_DIR || entry.getName().endsWith("/");
    }

    /** Whether writing {@code target} meets a file where a directory is needed, or any entry where a file goes. */
    private static boolean clashes(Path into, Path target, boolean directory) {
        for (Path p = target.getParent(); p != null && p.startsWith(into) && !p.equals(into); p = p.getParent()) {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                return true;
            }
        }
        boolean exists = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
        return directory ? exists && !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS) : exists;
    }

    /** An entry name as it may be shown: NUL as \0, other control characters as '?'. */
    private static String printable(String name) {
        StringBuilder out = new StringBuilder(name.length());
        for (char c : name.toCharArray()) {
            if (c == '\0') {
                out.append("\\0");
            } else {
                out.append(Character.isISOControl(c) ? '?' : c);
            }
        }
        return out.toString();
    }

    /**
     * What one upload may still write, counted as it streams in: the bytes really written (a tar
     * header's size is only used to refuse early) and the tar entries. Past either limit: 413.
     */
    private static final class UploadLimit {

        private final long maxBytes;
        private final int maxEntries;
        private long written;
        private int entries;

        UploadLimit(AmalgamProperties.Uploads limits) {
            this.maxBytes = limits.maxBytes().toBytes();
            this.maxEntries = limits.maxEntries();
        }

        /** Counts one tar entry; refuses at once when its declared size alone would pass the limit. */
        void entry(long declaredSize) {
            entries++;
            if (entries > maxEntries) {
                throw ApiException.tooLarge("The tar has more than " + maxEntries
                        + " entries, the limit of this server (amalgam.uploads.max-entries)");
            }
            if (declaredSize > maxBytes - written) {
                throw bytesExceeded();
            }
        }

        /** Copies {@code in} into a new file, refusing once the upload's total passes the limit. */
        void copy(InputStream in, Path target) throws IOException {
            try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW)) {
                byte[] buffer = new byte[64 * 1024];
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    written += n;
                    if (written > maxBytes) {
                        throw bytesExceeded();
                    }
                    out.write(buffer, 0, n);
                }
            }
        }

        private ApiException bytesExceeded() {
            return ApiException.tooLarge("The upload is larger than " + describe(maxBytes)
                    + ", the limit of this server (amalgam.uploads.max-bytes)");
        }

        /** "64GB" rather than 68719476736 bytes, as the setting is written. */
        private static String describe(long bytes) {
            String[] units = {"TB", "GB", "MB", "KB"};
            for (int i = 0; i < units.length; i++) {
                long unit = 1L << (10 * (units.length - i));
                if (bytes >= unit && bytes % unit == 0) {
                    return bytes / unit + units[i];
                }
            }
            return bytes + " bytes";
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

    /** Copies the checked tree; files are opened without following links, should one appear meanwhile. */
    private static void copyTree(Path source, List<Path> tree, Path staged, UploadLimit limit) throws IOException {
        boolean single = !Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS);
        for (Path p : tree) {
            Path t = single ? staged.resolve(source.getFileName().toString()) : staged.resolve(source.relativize(p).toString());
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(t);
            } else {
                try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                    limit.copy(in, t);
                }
            }
        }
    }
}
