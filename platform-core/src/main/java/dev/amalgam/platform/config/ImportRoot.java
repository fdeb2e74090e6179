package dev.amalgam.platform.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The rule that keeps the import root and the data directory apart. Anything under the import root can be
 * registered as an artifact by any tenant, so the import root must not contain the data directory (the
 * admin key file, every tenant's artifacts, the database files), nor lie inside it.
 */
public final class ImportRoot {

    private ImportRoot() {
    }

    /**
     * Throws IllegalArgumentException when one directory contains the other, compared by real paths
     * (links resolved), so a symlinked path cannot hide the overlap. A directory that does not exist yet is
     * compared through its nearest existing parent.
     */
    public static void requireSeparate(Path importRoot, Path dataDir) {
        if (importRoot == null) {
            return;
        }
        Path imports = real(importRoot);
        Path data = real(dataDir);
        if (data.startsWith(imports)) {
            throw new IllegalArgumentException("the import root " + importRoot + " contains the data directory " + dataDir
                    + ": any tenant could import the API key and other tenants' artifacts; choose an import root of its own");
        }
        if (imports.startsWith(data)) {
            throw new IllegalArgumentException("the import root " + importRoot + " lies inside the data directory " + dataDir
                    + "; choose an import root of its own");
        }
    }

    /** The real path of {@code p}, or of its nearest existing ancestor joined with the rest. */
    static Path real(Path p) {
        Path absolute = p.toAbsolutePath().normalize();
        Path existing = absolute;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return absolute;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(absolute));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not resolve " + p, e);
        }
    }
}
