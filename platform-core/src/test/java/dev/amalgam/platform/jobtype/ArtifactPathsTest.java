package dev.amalgam.platform.jobtype;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ArtifactPathsTest {

    @Test
    void aFileAndItsDirectoryAsGivenAndAbsoluteBecomeTheArtifactsName() {
        ArtifactPaths paths = new ArtifactPaths();
        Path dir = Path.of("data/artifacts/1234");
        paths.add(dir.resolve("calib.jsonl"), dir, "calib");
        String absolute = dir.resolve("calib.jsonl").toAbsolutePath().toString();
        assertThat(paths.named(absolute + " line 3: not JSON")).isEqualTo("'calib' line 3: not JSON");
        assertThat(paths.named("data/artifacts/1234/calib.jsonl line 3")).isEqualTo("'calib' line 3");
        // the directory alone (a model read from it), not a file of it
        assertThat(paths.named(dir.toAbsolutePath() + "/config.json: not JSON")).isEqualTo("'calib'/config.json: not JSON");
        assertThat(paths.named(List.of("unrelated /tmp/x", "x"))).containsExactly("unrelated /tmp/x", "x");
        assertThat(paths.named((String) null)).isNull();
    }
}
