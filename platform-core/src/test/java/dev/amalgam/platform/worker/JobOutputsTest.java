package dev.amalgam.platform.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactMetadataReader;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactStore;
import dev.amalgam.platform.config.AmalgamProperties;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.NewJob;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.Published;
import dev.amalgam.platform.testing.Registry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.unit.DataSize;

/** A job's outputs are published all or nothing, and exactly once across attempts. */
class JobOutputsTest {

    @TempDir
    Path data;

    Registry registry;
    ArtifactRepository artifacts;
    ArtifactStore store;
    UUID tenant;

    @BeforeEach
    void setUp() {
        registry = new Registry();
        AmalgamProperties props = new AmalgamProperties(data, AmalgamProperties.Role.both, null,
                new AmalgamProperties.Worker(List.of(), 1, Duration.ofSeconds(60), Duration.ofSeconds(10),
                        Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(30), 0),
                new AmalgamProperties.Auth(null, false), new AmalgamProperties.Uploads(DataSize.ofGigabytes(1), 1000));
        artifacts = new ArtifactRepository(registry.jdbc, registry.json);
        store = new ArtifactStore(props, artifacts, new ArtifactMetadataReader(registry.json),
                new TransactionTemplate(new DataSourceTransactionManager(registry.dataSource)));
        tenant = registry.newTenant("outputs");
    }

    JobContext attempt(UUID jobId, String owner) {
        Job job = registry.jobs.claim(List.of("out"), owner, Duration.ofMillis(200)).orElseThrow();
        assertThat(job.id()).isEqualTo(jobId);
        return new JobContext(job, owner, registry.jobs, artifacts, store, registry.json, Duration.ofSeconds(5));
    }

    UUID submit() {
        return registry.jobService.submit(new NewJob(tenant, "out", 1, registry.json.valueToTree(Map.of()), 0, 3, null, List.of()))
                .job().id();
    }

    Path staged(JobContext ctx, String file, String content) throws Exception {
        Path dir = ctx.newStagingDir();
        Files.writeString(dir.resolve(file), content);
        return dir;
    }

    @Test
    void whenTheReportsNameIsTakenTheModelIsNotPublishedEither() throws Exception {
        Path taken = store.newStagingDir();
        Files.writeString(taken.resolve("d.jsonl"), "{\"text\":\"x\"}\n");
        store.publish(new ArtifactStore.Publication(tenant, ArtifactKind.DATASET, "P-report", taken, null, List.of()));
        UUID id = submit();
        JobContext ctx = attempt(id, "w1");
        Path model = staged(ctx, "weights.txt", "the model");
        Path report = staged(ctx, "report.json", "{}");

        assertThatThrownBy(() -> ctx.publishAll(List.of(new JobOutput(ArtifactKind.REPORT, "P", "P", model),
                new JobOutput(ArtifactKind.REPORT, "P-report", "P-report", report)), List.of()))
                .hasMessageContaining("P-report").hasMessageContaining("already exists");

        assertThat(artifacts.findReadyByName(tenant, "P")).as("all or nothing").isEmpty();
        assertThat(model).doesNotExist();
        assertThat(report).doesNotExist();
        try (Stream<Path> stored = Files.list(data.resolve("artifacts"))) {
            assertThat(stored).as("only the dataset published before").hasSize(1);
        }
    }

    @Test
    void aBadSecondOutputLeavesTheFirstUnpublished() throws Exception {
        UUID id = submit();
        JobContext ctx = attempt(id, "w1");
        Path good = staged(ctx, "report.json", "{}");
        Path bad = staged(ctx, "d.jsonl", "{broken\n");
        assertThatThrownBy(() -> ctx.publishAll(List.of(new JobOutput(ArtifactKind.REPORT, "good", "good", good),
                new JobOutput(ArtifactKind.DATASET, "bad", "bad", bad)), List.of())).hasMessageContaining("d.jsonl");
        assertThat(artifacts.findReadyByName(tenant, "good")).isEmpty();
        assertThat(artifacts.findReadyByName(tenant, "bad")).isEmpty();
    }

    @Test
    void anAttemptAfterOneThatDiedAfterPublishingReturnsTheSameOutputsOnce() throws Exception {
        UUID id = submit();
        JobContext first = attempt(id, "w1");
        List<Published> published = first.publishAll(List.of(
                new JobOutput(ArtifactKind.REPORT, "m", "m", staged(first, "weights.txt", "the model")),
                new JobOutput(ArtifactKind.REPORT, "m-report", "m-report", staged(first, "report.json", "{}"))), List.of());
        // the worker dies here, before recording the outcome: its lease expires and another attempt runs
        Thread.sleep(300);
        JobContext second = attempt(id, "w2");
        Path again = staged(second, "weights.txt", "the model");
        List<Published> republished = second.publishAll(List.of(
                new JobOutput(ArtifactKind.REPORT, "m", "m", again),
                new JobOutput(ArtifactKind.REPORT, "m-report", "m-report", staged(second, "report.json", "{}"))), List.of());

        assertThat(republished).extracting(Published::reference).containsExactlyElementsOf(published.stream().map(Published::reference).toList());
        assertThat(again).as("the second attempt's copy is dropped").doesNotExist();
        assertThat(artifacts.list(tenant, null, null, 0, 10)).hasSize(2);
    }

    @Test
    void anotherJobsArtifactOfTheSameNameIsNotMistakenForThisJobsOutput() throws Exception {
        UUID other = submit();
        JobContext otherCtx = attempt(other, "w0");
        otherCtx.publishAll(List.of(new JobOutput(ArtifactKind.REPORT, "report", "shared", staged(otherCtx, "r.json", "{}"))), List.of());
        registry.jobs.finish(other, "w0", dev.amalgam.platform.job.JobStatus.SUCCEEDED, null, null);
        UUID id = submit();
        JobContext ctx = attempt(id, "w1");
        Path again = staged(ctx, "r.json", "{}");
        assertThatThrownBy(() -> ctx.publishAll(List.of(new JobOutput(ArtifactKind.REPORT, "report", "shared", again)), List.of()))
                .hasMessageContaining("already exists");
    }
}
