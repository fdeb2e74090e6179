package dev.amalgam.platform.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.platform.config.AmalgamProperties;
import dev.amalgam.platform.testing.Registry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** What a crashed process left in staging is removed on the next start, not a day later. */
class StagingCleanupTest {

    @TempDir
    Path data;

    @Test
    void aDeadProcessesStagingIsRemovedAtOnceALiveOnesAndOtherHostsAreKept() throws Exception {
        Registry registry = new Registry();
        AmalgamProperties props = new AmalgamProperties(data, AmalgamProperties.Role.both, null,
                new AmalgamProperties.Worker(List.of(), 1, Duration.ofSeconds(60), Duration.ofSeconds(10),
                        Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(30), 0),
                new AmalgamProperties.Auth(null, false), new AmalgamProperties.Uploads(DataSize.ofGigabytes(1), 1000));
        ArtifactRepository repository = new ArtifactRepository(registry.jdbc, registry.json);
        ArtifactStore store = new ArtifactStore(props, repository, new ArtifactMetadataReader(registry.json),
                new TransactionTemplate(new DataSourceTransactionManager(registry.dataSource)));

        Path mine = store.newStagingDir();
        assertThat(mine.getFileName().toString()).startsWith("stage-" + ArtifactStore.HOST + "-" + ProcessHandle.current().pid() + "-");
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor();
        Path dead = Files.createDirectories(props.stagingDir().resolve("stage-" + ArtifactStore.HOST + "-" + ended.pid() + "-123"));
        Files.writeString(dead.resolve("model.safetensors"), "half written");
        Path otherHost = Files.createDirectories(props.stagingDir().resolve("stage-elsewhere-1-456"));

        store.cleanStaging(Duration.ofDays(1));

        assertThat(dead).as("its process is gone").doesNotExist();
        assertThat(mine).as("this process may be writing into it").exists();
        assertThat(otherHost).as("another host's process cannot be checked: kept until it is old").exists();
    }
}
