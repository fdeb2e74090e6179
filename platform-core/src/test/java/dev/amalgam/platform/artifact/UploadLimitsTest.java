package dev.amalgam.platform.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.error.ProblemType;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpStatus;
import org.springframework.util.unit.DataSize;

/** amalgam.uploads.max-bytes and max-entries bound what one upload may write; past them it is a 413. */
class UploadLimitsTest {

    static final int MAX_BYTES = 64 * 1024;
    static final int MAX_ENTRIES = 10;

    @TempDir
    Path data;

    ArtifactServiceFixture fx;

    @BeforeEach
    void setUp() {
        fx = new ArtifactServiceFixture(data, null, DataSize.ofBytes(MAX_BYTES), MAX_ENTRIES);
    }

    static byte[] tar(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(f.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    void assertTooLarge(ThrowingCallable upload) throws IOException {
        ApiException e = catchThrowableOfType(ApiException.class, upload);
        assertThat(e).as("the upload is refused").isNotNull();
        assertThat(e.status()).isEqualTo(HttpStatus.PAYLOAD_TOO_LARGE);
        assertThat(e.type()).isEqualTo(ProblemType.PAYLOAD_TOO_LARGE);
        assertThat(e.getMessage()).doesNotContain(data.toString());
        assertThat(fx.artifacts()).isEmpty();
        assertThat(fx.leftInStaging()).as("the staged files are removed").isEmpty();
    }

    @Test
    void aTarWhoseFilesTogetherPassMaxBytesIsRefusedWith413() throws Exception {
        byte[] tar = tar(Map.of("r/a.bin", new byte[40 * 1024], "r/b.bin", new byte[40 * 1024]));

        assertTooLarge(() -> fx.service.uploadTar(fx.tenant, ArtifactKind.REPORT, "r", new ByteArrayInputStream(tar)));
    }

    @Test
    void aTarEntryClaimingMoreThanMaxBytesIsRefusedBeforeItsDataIsRead() throws Exception {
        long claimed = 64L * 1024 * 1024;
        TarArchiveEntry big = new TarArchiveEntry("big.bin");
        big.setSize(claimed);
        byte[] header = new byte[512];
        big.writeEntryHeader(header);
        CountingZeros body = new CountingZeros(claimed + 1024);

        assertTooLarge(() -> fx.service.uploadTar(fx.tenant, ArtifactKind.REPORT, "big",
                new SequenceInputStream(new ByteArrayInputStream(header), body)));
        assertThat(body.read).as("bytes of the entry's data read before refusing").isLessThan(MAX_BYTES);
    }

    @Test
    void aTarWithMoreThanMaxEntriesIsRefusedWith413() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int i = 0; i <= MAX_ENTRIES; i++) {
            files.put("f" + i + ".txt", "x".getBytes(StandardCharsets.UTF_8));
        }
        byte[] tar = tar(files);

        assertTooLarge(() -> fx.service.uploadTar(fx.tenant, ArtifactKind.REPORT, "many", new ByteArrayInputStream(tar)));
    }

    @Test
    void aSingleFileUploadPastMaxBytesIsRefusedWith413() throws Exception {
        byte[] jsonl = "{\"text\": \"a line of a dataset\"}\n".repeat(3000).getBytes(StandardCharsets.UTF_8);
        assertThat(jsonl.length).isGreaterThan(MAX_BYTES);

        assertTooLarge(() -> fx.service.uploadFile(fx.tenant, ArtifactKind.DATASET, "d", "d.jsonl", new ByteArrayInputStream(jsonl)));
    }

    @Test
    void uploadsWithinTheLimitsAreAccepted() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int i = 0; i < MAX_ENTRIES; i++) {
            files.put("f" + i + ".bin", new byte[MAX_BYTES / MAX_ENTRIES]);
        }

        Artifact a = fx.service.uploadTar(fx.tenant, ArtifactKind.REPORT, "ok", new ByteArrayInputStream(tar(files)));

        assertThat(fx.repository.files(a.id())).hasSize(MAX_ENTRIES);
    }

    @Test
    void anImportPastEitherLimitIsRefusedBeforeAnythingIsCopied(@TempDir Path importRoot) throws Exception {
        ArtifactServiceFixture imports = new ArtifactServiceFixture(data, importRoot, DataSize.ofBytes(MAX_BYTES), MAX_ENTRIES);
        Path big = java.nio.file.Files.createDirectories(importRoot.resolve("big"));
        java.nio.file.Files.write(big.resolve("a.bin"), new byte[40 * 1024]);
        java.nio.file.Files.write(big.resolve("b.bin"), new byte[40 * 1024]);
        Path many = java.nio.file.Files.createDirectories(importRoot.resolve("many"));
        for (int i = 0; i < MAX_ENTRIES; i++) {
            java.nio.file.Files.write(many.resolve("f" + i), new byte[1]);
        }

        ApiException bytes = catchThrowableOfType(ApiException.class,
                () -> imports.service.importFromRoot(imports.tenant, ArtifactKind.REPORT, "big", "big"));
        // the directory itself and its ten files: eleven entries
        ApiException entries = catchThrowableOfType(ApiException.class,
                () -> imports.service.importFromRoot(imports.tenant, ArtifactKind.REPORT, "many", "many"));

        assertThat(bytes.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(bytes.errors()).singleElement().asString().contains("81920 bytes").contains("64KB").contains("max-bytes");
        assertThat(entries.errors()).singleElement().asString().contains("11 files and directories").contains("max-entries");
        assertThat(imports.artifacts()).isEmpty();
        assertThat(imports.leftInStaging()).isEmpty();
        java.nio.file.Files.delete(many.resolve("f0"));
        assertThat(imports.service.importFromRoot(imports.tenant, ArtifactKind.REPORT, "many", "many").name())
                .as("at the limit it is imported").isEqualTo("many");
    }

    /** {@code length} zero bytes, produced on demand, counting how many were read. */
    static final class CountingZeros extends InputStream {
        final long length;
        long read;

        CountingZeros(long length) {
            this.length = length;
        }

        @Override
        public int read() {
            if (read >= length) {
                return -1;
            }
            read++;
            return 0;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (read >= length) {
                return -1;
            }
            int n = (int) Math.min(len, length - read);
            java.util.Arrays.fill(b, off, off + n, (byte) 0);
            read += n;
            return n;
        }
    }
}
