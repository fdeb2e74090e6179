package dev.amalgam.platform.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.amalgam.platform.error.ApiException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.http.HttpStatus;
import org.springframework.util.unit.DataSize;

/**
 * A tar upload holds regular files and directories with plain relative names, nothing else: links,
 * devices, FIFOs, sparse and unknown entries and unsafe names are refused, naming the entry.
 */
class TarUploadTest {

    @TempDir
    Path data;
    @TempDir
    Path scratch;

    ArtifactServiceFixture fx;

    @BeforeEach
    void setUp() {
        fx = new ArtifactServiceFixture(data, null, DataSize.ofMegabytes(4), 100);
    }

    /** Builds a tar entry by entry. */
    static final class Tar {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final TarArchiveOutputStream out = new TarArchiveOutputStream(bytes);

        Tar add(TarArchiveEntry e, byte[] content) throws IOException {
            e.setSize(content.length);
            out.putArchiveEntry(e);
            out.write(content);
            out.closeArchiveEntry();
            return this;
        }

        Tar file(String name, String content) throws IOException {
            return add(new TarArchiveEntry(name), content.getBytes(StandardCharsets.UTF_8));
        }

        Tar file(String name, Path content) throws IOException {
            return add(new TarArchiveEntry(name), Files.readAllBytes(content));
        }

        /** A pax extended header record set, applied by readers to the next entry. */
        Tar pax(String... keysAndValues) throws IOException {
            StringBuilder records = new StringBuilder();
            for (int i = 0; i < keysAndValues.length; i += 2) {
                String record = " " + keysAndValues[i] + "=" + keysAndValues[i + 1] + "\n";
                int length = record.getBytes(StandardCharsets.UTF_8).length;
                int total = length + String.valueOf(length).length();
                total = length + String.valueOf(total).length();
                records.append(total).append(record);
            }
            return add(new TarArchiveEntry("PaxHeaders/entry", TarConstants.LF_PAX_EXTENDED_HEADER_LC),
                    records.toString().getBytes(StandardCharsets.UTF_8));
        }

        ByteArrayInputStream stream() throws IOException {
            out.close();
            return new ByteArrayInputStream(bytes.toByteArray());
        }
    }

    ApiException refused(ArtifactKind kind, Tar tar) throws IOException {
        ByteArrayInputStream in = tar.stream();
        ApiException e = catchThrowableOfType(ApiException.class, () -> fx.service.uploadTar(fx.tenant, kind, "up", in));
        assertThat(e).as("the upload is refused").isNotNull();
        assertThat(e.getMessage()).doesNotContain(data.toString());
        assertThat(fx.artifacts()).isEmpty();
        assertThat(fx.leftInStaging()).as("the staged files are removed").isEmpty();
        return e;
    }

    @Test
    void aModelWhoseConfigIsASymbolicLinkIsRefused() throws Exception {
        Path model = scratch.resolve("m");
        ArtifactServiceFixture.writeModel(model);
        TarArchiveEntry link = new TarArchiveEntry("m/config.json", TarConstants.LF_SYMLINK);
        link.setLinkName("/etc/passwd");
        Tar tar = new Tar().add(link, new byte[0]).file("m/model.safetensors", model.resolve("model.safetensors"));

        ApiException e = refused(ArtifactKind.MODEL, tar);

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly(
                "file: entry 'm/config.json' is a symbolic link; only regular files and directories are accepted");
    }

    @ParameterizedTest(name = "type {0}: {1}")
    @CsvSource(quoteCharacter = '"', value = {"1, a hard link", "2, a symbolic link", "3, a character device",
            "4, a block device", "6, a FIFO", "S, a sparse file", "M, a multi-volume continuation",
            "V, an entry of type 'V'", "Z, an entry of type 'Z'"})
    void entriesOtherThanFilesAndDirectoriesAreRefusedNamingTheEntry(char type, String what) throws Exception {
        Tar tar = new Tar().file("r/ok.txt", "fine").add(new TarArchiveEntry("r/odd", (byte) type), new byte[0]);

        ApiException e = refused(ArtifactKind.REPORT, tar);

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly("file: entry 'r/odd' is " + what + "; only regular files and directories are accepted");
    }

    @Test
    void aPaxSparseEntryIsRefusedRatherThanExpanded() throws Exception {
        // GNU pax sparse 1.0: 513 bytes in the archive that a reader expands to 8 MiB
        byte[] content = new byte[513];
        byte[] map = "1\n8388607\n1\n".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(map, 0, content, 0, map.length);
        Tar tar = new Tar().pax("GNU.sparse.major", "1", "GNU.sparse.minor", "0", "GNU.sparse.name", "r/sparse.bin",
                "GNU.sparse.realsize", "8388608").add(new TarArchiveEntry("r/GNUSparseFile.0/sparse.bin"), content);

        ApiException e = refused(ArtifactKind.REPORT, tar);

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly("file: entry 'r/sparse.bin' is a sparse file; only regular files and directories are accepted");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "..\\..\\evil.txt | '..\\..\\evil.txt' has a backslash in its name",
            "r/a\\b.txt | 'r/a\\b.txt' has a backslash in its name",
            "../evil.txt | '../evil.txt' has a '..' component in its name",
            "r/../../evil.txt | 'r/../../evil.txt' has a '..' component in its name"})
    void unsafeNamesAreRefused(String name, String problem) throws Exception {
        ApiException e = refused(ArtifactKind.REPORT, new Tar().file(name, "x"));

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly("file: entry " + problem);
    }

    @Test
    void anAbsoluteNameIsRefused() throws Exception {
        ApiException e = refused(ArtifactKind.REPORT, new Tar().add(new TarArchiveEntry("/etc/evil.txt", true), new byte[1]));

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly("file: entry '/etc/evil.txt' has an absolute name");
    }

    @Test
    void aNulInANameIsRefusedAndShownEscaped() throws Exception {
        Tar tar = new Tar().pax("path", "r/a\u0000b.txt").file("r/placeholder", "x");

        ApiException e = refused(ArtifactKind.REPORT, tar);

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly("file: entry 'r/a\\0b.txt' has a NUL in its name");
    }

    @Test
    void anEntryGivenTwiceIsRefusedWithoutNamingServerPaths() throws Exception {
        ApiException e = refused(ArtifactKind.REPORT, new Tar().file("r/a.txt", "one").file("r/a.txt", "two"));

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly("file: entry 'r/a.txt' appears twice, or clashes with an earlier entry");
    }

    @Test
    void aTarWithoutFilesIsA422WithoutServerPaths() throws Exception {
        ApiException e = refused(ArtifactKind.REPORT, new Tar().add(new TarArchiveEntry("r/", TarConstants.LF_DIR), new byte[0]));

        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly("Nothing to publish: the artifact 'up' has no files");
    }

    @Test
    void aTarOfDotWithOldStyleDirectoriesIsAccepted() throws Exception {
        // what "tar -C dir -cf - ." writes: "./" first, names under "./"; and a directory of type '0' ending in '/'
        Tar tar = new Tar().add(new TarArchiveEntry("./", TarConstants.LF_DIR), new byte[0])
                .file("./notes.txt", "n").add(new TarArchiveEntry("./sub/", TarConstants.LF_NORMAL), new byte[0])
                .file("./sub/more.txt", "m");

        Artifact a = fx.service.uploadTar(fx.tenant, ArtifactKind.REPORT, "dot", tar.stream());

        assertThat(fx.repository.files(a.id())).extracting(ArtifactFile::path).containsExactly("notes.txt", "sub/more.txt");
    }
}
