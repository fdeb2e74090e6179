package dev.amalgam.platform.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sizes PyTorch's CPU thread pools to this process's share of the machine. PyTorch's default is one
 * intra-op thread per core of the machine, which ignores a container's CPU quota and the other jobs of the
 * process: with the cores busy, threads then wait on each other. The share is the CPU quota of the
 * process's cgroup (or the available processors, when lower or without a quota) divided by the number of
 * jobs the process runs at once, at least one.
 *
 * <p>It sets DJL's {@code ai.djl.pytorch.num_threads} (intra-op) and {@code ai.djl.pytorch.num_interop_threads}
 * (1: the models run one operator at a time) before the engine starts; values given with {@code -D} win.
 * OpenMP's waiting is an environment setting ({@code OMP_WAIT_POLICY=PASSIVE}) that the launcher, the image
 * and the manifests set, since it must be in place before the native library loads.
 */
public final class ComputeThreads {

    private static final Logger log = LoggerFactory.getLogger(ComputeThreads.class);
    static final String INTRA_OP = "ai.djl.pytorch.num_threads";
    static final String INTER_OP = "ai.djl.pytorch.num_interop_threads";

    /** Jobs this process may run at once, summed over its worker runtimes (several services share one JVM in `amalgam up`). */
    private static int concurrentJobs;
    /** Whether the properties were set by this class (rather than by the user with -D). */
    private static boolean ours;

    private ComputeThreads() {
    }

    /**
     * Records that this process runs {@code jobs} more jobs at once and (re)sizes the pools: {@code override}
     * threads when positive, else the CPU share divided by every job the process runs at once.
     */
    public static synchronized int register(int jobs, int override) {
        concurrentJobs += Math.max(1, jobs);
        int threads = override > 0 ? override : perJob(cpuLimit(Path.of("/sys/fs/cgroup"),
                Runtime.getRuntime().availableProcessors()), concurrentJobs);
        if (System.getProperty(INTRA_OP) != null && !ours) {
            return Integer.parseInt(System.getProperty(INTRA_OP).trim());
        }
        System.setProperty(INTRA_OP, Integer.toString(threads));
        if (System.getProperty(INTER_OP) == null || ours) {
            System.setProperty(INTER_OP, "1");
        }
        ours = true;
        log.info("PyTorch CPU threads: {} intra-op per job ({} job(s) at once in this process)", threads, concurrentJobs);
        return threads;
    }

    /** Records that a worker runtime of this process stopped: its jobs no longer share the CPUs. */
    public static synchronized void unregister(int jobs) {
        concurrentJobs = Math.max(0, concurrentJobs - Math.max(1, jobs));
    }

    /** Threads per job: the CPU limit shared by the jobs, rounded down, at least one. */
    static int perJob(double cpus, int jobs) {
        return Math.max(1, (int) Math.floor(cpus / Math.max(1, jobs)));
    }

    /** The CPUs this process may use: its cgroup quota when one is set and lower than {@code available}. */
    static double cpuLimit(Path cgroupRoot, int available) {
        OptionalDouble quota = cgroupQuota(cgroupRoot);
        return quota.isPresent() ? Math.min(available, quota.getAsDouble()) : available;
    }

    /**
     * The CPU quota in CPUs: cgroup v2's {@code cpu.max} ("quota period", or "max" for none) or cgroup v1's
     * {@code cpu/cpu.cfs_quota_us} over {@code cpu.cfs_period_us} (-1 for none). Empty without a quota.
     */
    static OptionalDouble cgroupQuota(Path root) {
        try {
            Path v2 = root.resolve("cpu.max");
            if (Files.isRegularFile(v2)) {
                String[] parts = Files.readString(v2).trim().split("\\s+");
                if (parts.length == 2 && !parts[0].equals("max")) {
                    return ratio(Double.parseDouble(parts[0]), Double.parseDouble(parts[1]));
                }
                return OptionalDouble.empty();
            }
            Path quota = root.resolve("cpu/cpu.cfs_quota_us");
            Path period = root.resolve("cpu/cpu.cfs_period_us");
            if (Files.isRegularFile(quota) && Files.isRegularFile(period)) {
                return ratio(Double.parseDouble(Files.readString(quota).trim()), Double.parseDouble(Files.readString(period).trim()));
            }
        } catch (IOException | NumberFormatException e) {
            log.debug("No readable cgroup CPU quota under {}: {}", root, e.toString());
        }
        return OptionalDouble.empty();
    }

    private static OptionalDouble ratio(double quota, double period) {
        return quota > 0 && period > 0 ? OptionalDouble.of(quota / period) : OptionalDouble.empty();
    }

    /** Forgets what was registered (tests). */
    static synchronized void reset() {
        concurrentJobs = 0;
        if (ours) {
            System.clearProperty(INTRA_OP);
            System.clearProperty(INTER_OP);
        }
        ours = false;
    }
}
