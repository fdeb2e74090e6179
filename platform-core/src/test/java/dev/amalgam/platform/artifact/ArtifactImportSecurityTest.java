package dev.amalgam.platform.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.amalgam.platform.error.ApiException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpStatus;
import org.springframework.util.unit.DataSize;

/**
 * Import from the import root copies only what really lies under it: no symbolic link anywhere in the
 * imported path or tree, and nothing but regular files and directories.
 */
class ArtifactImportSecurityTest {

    @TempDir
    Path data;
    @TempDir
    Path root;
    @TempDir
    Path outside;

    ArtifactServiceFixture fx;
    Path secret;

    @BeforeEach
    void setUp() throws Exception {
        fx = new ArtifactServiceFixture(data, root, DataSize.ofMegabytes(10), 100);
        secret = Files.writeString(outside.resolve("secret.json"), "{\"text\": \"the server's secret\"}\n");
    }

    ApiException refusedImport(ArtifactKind kind, String path) {
        ApiException e = catchThrowableOfType(ApiException.class, () -> fx.service.importFromRoot(fx.tenant, kind, "x", path));
        assertThat(e).as("the import of '%s' is refused", path).isNotNull();
        return e;
    }

    void assertNothingImported() throws Exception {
        assertThat(fx.artifacts()).isEmpty();
        assertThat(fx.leftInStaging()).isEmpty();
    }

    @Test
    void aLinkToAFileOutsideTheRootIsRefused() throws Exception {
        Files.createSymbolicLink(root.resolve("leak.jsonl"), secret);

        ApiException e = refusedImport(ArtifactKind.DATASET, "leak.jsonl");

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly("path: 'leak.jsonl' is a symbolic link; links are not imported");
        assertNothingImported();
    }

    @Test
    void aSymlinkedDirectoryComponentIsRefused() throws Exception {
        ArtifactServiceFixture.writeModel(outside.resolve("a"));
        Files.createSymbolicLink(root.resolve("models"), outside);

        ApiException e = refusedImport(ArtifactKind.MODEL, "models/a");

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly("path: 'models' is a symbolic link; links are not imported");
        assertNothingImported();
    }

    @Test
    void aLinkInsideAModelDirectoryIsRefusedAndNamedRelativeToTheRoot() throws Exception {
        Path model = root.resolve("models/a");
        ArtifactServiceFixture.writeModel(model);
        Files.delete(model.resolve("config.json"));
        Files.writeString(outside.resolve("config.json"), "{\"num_hidden_layers\": 1}");
        Files.createSymbolicLink(model.resolve("config.json"), outside.resolve("config.json"));
        Files.createSymbolicLink(model.resolve("tokenizer.json"), secret);
        Files.createSymbolicLink(model.resolve("extra"), outside);

        ApiException e = refusedImport(ArtifactKind.MODEL, "models/a");

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactlyInAnyOrder(
                "path: 'models/a/config.json' is a symbolic link; links are not imported",
                "path: 'models/a/tokenizer.json' is a symbolic link; links are not imported",
                "path: 'models/a/extra' is a symbolic link; links are not imported");
        assertNothingImported();
    }

    @Test
    void aFifoInsideAModelDirectoryIsRefused() throws Exception {
        Path model = root.resolve("models/a");
        ArtifactServiceFixture.writeModel(model);
        Path fifo = model.resolve("pipe");
        boolean made;
        try {
            made = new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0;
        } catch (java.io.IOException noMkfifo) {
            made = false;
        }
        assumeThat(made).as("mkfifo is available").isTrue();

        ApiException e = refusedImport(ArtifactKind.MODEL, "models/a");

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly("path: 'models/a/pipe' is not a regular file or directory; only those are imported");
        assertNothingImported();
    }

    @Test
    void aPathLeavingTheRootIsRefusedWithoutNamingServerPaths() throws Exception {
        ApiException e = refusedImport(ArtifactKind.DATASET, "../" + outside.getFileName() + "/secret.json");

        assertThat(e.errors()).containsExactly("path: must stay inside the import root");
        assertThat(e.getMessage()).doesNotContain(root.toString()).doesNotContain(outside.toString());
        assertNothingImported();
    }

    @Test
    void anImportRootThatIsItselfALinkStillImportsWhatLiesUnderIt() throws Exception {
        ArtifactServiceFixture.writeModel(root.resolve("models/a"));
        Path linkedRoot = outside.resolve("root-link");
        Files.createSymbolicLink(linkedRoot, root);
        ArtifactServiceFixture viaLink = new ArtifactServiceFixture(data, linkedRoot, DataSize.ofMegabytes(10), 100);

        Artifact a = viaLink.service.importFromRoot(viaLink.tenant, ArtifactKind.MODEL, "a", "models/a");

        assertThat(viaLink.repository.files(a.id())).extracting(ArtifactFile::path).containsExactly("config.json", "model.safetensors");
    }
}
