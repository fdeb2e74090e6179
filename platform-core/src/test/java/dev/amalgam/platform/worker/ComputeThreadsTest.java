package dev.amalgam.platform.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PyTorch's threads follow the cgroup CPU quota and the jobs a process runs at once. */
class ComputeThreadsTest {

    @TempDir
    Path cgroup;

    @BeforeEach
    @AfterEach
    void forget() {
        ComputeThreads.reset();
    }

    @Test
    void aCgroupV2QuotaLimitsTheCpus() throws Exception {
        Files.writeString(cgroup.resolve("cpu.max"), "250000 100000\n");
        assertThat(ComputeThreads.cpuLimit(cgroup, 16)).isEqualTo(2.5);
        assertThat(ComputeThreads.cpuLimit(cgroup, 2)).as("never above the processors available").isEqualTo(2.0);
    }

    @Test
    void noQuotaInCgroupV2MeansTheAvailableProcessors() throws Exception {
        Files.writeString(cgroup.resolve("cpu.max"), "max 100000\n");
        assertThat(ComputeThreads.cpuLimit(cgroup, 8)).isEqualTo(8.0);
    }

    @Test
    void aCgroupV1QuotaIsReadFromTheCpuController() throws Exception {
        Files.createDirectories(cgroup.resolve("cpu"));
        Files.writeString(cgroup.resolve("cpu/cpu.cfs_quota_us"), "150000\n");
        Files.writeString(cgroup.resolve("cpu/cpu.cfs_period_us"), "100000\n");
        assertThat(ComputeThreads.cpuLimit(cgroup, 8)).isEqualTo(1.5);
        Files.writeString(cgroup.resolve("cpu/cpu.cfs_quota_us"), "-1\n");
        assertThat(ComputeThreads.cpuLimit(cgroup, 8)).as("-1: no quota").isEqualTo(8.0);
    }

    @Test
    void theShareIsDividedByTheJobsRunAtOnceAndIsNeverZero() {
        assertThat(ComputeThreads.perJob(8, 1)).isEqualTo(8);
        assertThat(ComputeThreads.perJob(8, 3)).isEqualTo(2);
        assertThat(ComputeThreads.perJob(2.5, 1)).isEqualTo(2);
        assertThat(ComputeThreads.perJob(2, 3)).isEqualTo(1);
        assertThat(ComputeThreads.perJob(0.5, 4)).isEqualTo(1);
    }

    @Test
    void registeringWorkersSumsTheirJobsAndAnOverrideWins() {
        int one = ComputeThreads.register(1, 0);
        int three = ComputeThreads.register(2, 0);
        assertThat(three).isEqualTo(ComputeThreads.perJob(ComputeThreads.cpuLimit(Path.of("/sys/fs/cgroup"),
                Runtime.getRuntime().availableProcessors()), 3));
        assertThat(three).isLessThanOrEqualTo(one);
        assertThat(System.getProperty(ComputeThreads.INTRA_OP)).isEqualTo(Integer.toString(three));
        assertThat(System.getProperty(ComputeThreads.INTER_OP)).isEqualTo("1");
        assertThat(ComputeThreads.register(1, 5)).isEqualTo(5);
        assertThat(System.getProperty(ComputeThreads.INTRA_OP)).isEqualTo("5");
        ComputeThreads.unregister(1);
        ComputeThreads.unregister(2);
        double cpus = ComputeThreads.cpuLimit(Path.of("/sys/fs/cgroup"), Runtime.getRuntime().availableProcessors());
        // left: the override's one job, plus one registered now
        assertThat(ComputeThreads.register(1, 0)).as("a stopped worker's jobs no longer count")
                .isEqualTo(ComputeThreads.perJob(cpus, 2));
    }

    @Test
    void aValueGivenWithMinusDIsLeftAlone() {
        System.setProperty(ComputeThreads.INTRA_OP, "7");
        try {
            assertThat(ComputeThreads.register(4, 0)).isEqualTo(7);
            assertThat(System.getProperty(ComputeThreads.INTRA_OP)).isEqualTo("7");
        } finally {
            System.clearProperty(ComputeThreads.INTRA_OP);
        }
    }
}
