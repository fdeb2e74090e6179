package dev.amalgam.platform.config;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The import root and the data directory never overlap, whichever way and through whatever links. */
class ImportRootTest {

    @TempDir
    Path dir;

    @Test
    void anImportRootThatContainsTheDataDirectoryIsRefused() {
        assertThatThrownBy(() -> ImportRoot.requireSeparate(dir, dir.resolve("amalgam-data")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("contains the data directory");
        assertThatThrownBy(() -> ImportRoot.requireSeparate(dir.resolve("x/.."), dir.resolve("amalgam-data")))
                .as("compared after normalising").isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theSameDirectoryForBothIsRefused() {
        assertThatThrownBy(() -> ImportRoot.requireSeparate(dir, dir)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anImportRootInsideTheDataDirectoryIsRefused() {
        assertThatThrownBy(() -> ImportRoot.requireSeparate(dir.resolve("data/artifacts"), dir.resolve("data")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lies inside the data directory");
    }

    @Test
    void aLinkDoesNotHideTheOverlap() throws Exception {
        Path data = Files.createDirectories(dir.resolve("real/amalgam-data"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), dir.resolve("real"));
        assertThatThrownBy(() -> ImportRoot.requireSeparate(link, data)).isInstanceOf(IllegalArgumentException.class);
        Path dataLink = Files.createSymbolicLink(dir.resolve("data-link"), data);
        assertThatThrownBy(() -> ImportRoot.requireSeparate(dir.resolve("real"), dataLink))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void siblingsAndADisabledImportRootAreAccepted() {
        assertThatCode(() -> ImportRoot.requireSeparate(dir.resolve("amalgam-import"), dir.resolve("amalgam-data")))
                .doesNotThrowAnyException();
        assertThatCode(() -> ImportRoot.requireSeparate(dir.resolve("data-import"), dir.resolve("data")))
                .as("a shared name prefix is not containment").doesNotThrowAnyException();
        assertThatCode(() -> ImportRoot.requireSeparate(null, dir)).doesNotThrowAnyException();
    }
}
