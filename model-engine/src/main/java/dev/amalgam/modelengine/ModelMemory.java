package dev.amalgam.modelengine;

import ai.djl.ndarray.types.DataType;
import dev.amalgam.modelio.HfModelDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The memory check before a model is loaded: the engine holds every weight in the compute type (FP32: 4 bytes per
 * element, FP16: 2), so a checkpoint whose weights need more than the worker has available fails at once with both
 * figures, instead of being killed by the kernel half-way through loading. On a CPU, "available" is the smaller
 * of the kernel's MemAvailable and the room left under the container's cgroup memory limit; a GPU is not checked
 * (its memory is not visible from here). {@code AMALGAM_MEMORY_CHECK=off} (or the system property
 * {@code amalgam.memory-check=off}) turns the check off.
 */
public final class ModelMemory {

    private ModelMemory() {
    }

    /** Bytes the engine needs for the checkpoint's weights in {@code computeType}. */
    public static long weightBytes(HfModelDir dir, DataType computeType) {
        long elements = 0;
        for (String name : dir.tensorNames()) {
            elements += dir.info(name).numel();
        }
        return elements * (computeType == DataType.FLOAT16 ? 2 : 4);
    }

    /** Fails with {@link UnsupportedModelException} when the weights cannot fit in this worker's memory. */
    public static void checkFits(HfModelDir dir, EngineOptions options) {
        if (options.device().isGpu() || disabled()) {
            return;
        }
        check(dir.dir().getFileName() + "", weightBytes(dir, options.computeType()), options.computeType(),
                availableBytes());
    }

    /** The check itself: throws naming what is needed and what is available. */
    static void check(String model, long needed, DataType computeType, OptionalLong available) {
        if (available.isPresent() && needed > available.getAsLong()) {
            throw new UnsupportedModelException("model " + model + " needs " + gib(needed) + " for its weights in "
                    + (computeType == DataType.FLOAT16 ? "FP16" : "FP32") + ", but this worker has only "
                    + gib(available.getAsLong()) + " of memory available; run it on a worker with more memory"
                    + (computeType == DataType.FLOAT16 ? "" : " or in FP16 on a GPU")
                    + " (AMALGAM_MEMORY_CHECK=off skips this check)");
        }
    }

    /** Memory this process can still use, if the system tells. */
    static OptionalLong availableBytes() {
        OptionalLong memAvailable = memAvailable(read(Path.of("/proc/meminfo")));
        OptionalLong cgroup = cgroupRoom(read(Path.of("/sys/fs/cgroup/memory.max")),
                read(Path.of("/sys/fs/cgroup/memory.current")));
        if (cgroup.isEmpty()) { // cgroup v1
            cgroup = cgroupRoom(read(Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes")),
                    read(Path.of("/sys/fs/cgroup/memory/memory.usage_in_bytes")));
        }
        if (memAvailable.isPresent() && cgroup.isPresent()) {
            return OptionalLong.of(Math.min(memAvailable.getAsLong(), cgroup.getAsLong()));
        }
        return memAvailable.isPresent() ? memAvailable : cgroup;
    }

    /** {@code MemAvailable:  123456 kB} of /proc/meminfo, in bytes. */
    static OptionalLong memAvailable(String meminfo) {
        if (meminfo == null) {
            return OptionalLong.empty();
        }
        for (String line : meminfo.split("\n")) {
            if (line.startsWith("MemAvailable:")) {
                String[] parts = line.substring("MemAvailable:".length()).trim().split("\\s+");
                try {
                    long kib = Long.parseLong(parts[0]);
                    return OptionalLong.of(kib * 1024);
                } catch (NumberFormatException e) {
                    return OptionalLong.empty();
                }
            }
        }
        return OptionalLong.empty();
    }

    /** Limit minus usage of a cgroup; empty without a limit ({@code max}, or v1's huge "unlimited" value). */
    static OptionalLong cgroupRoom(String limit, String usage) {
        if (limit == null || usage == null) {
            return OptionalLong.empty();
        }
        try {
            String l = limit.trim();
            if (l.equals("max")) {
                return OptionalLong.empty();
            }
            long max = Long.parseLong(l);
            if (max >= Long.MAX_VALUE / 2) { // v1 reports "unlimited" as a number near 2^63
                return OptionalLong.empty();
            }
            return OptionalLong.of(Math.max(0, max - Long.parseLong(usage.trim())));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private static boolean disabled() {
        String v = System.getProperty("amalgam.memory-check", System.getenv("AMALGAM_MEMORY_CHECK"));
        return v != null && v.trim().toLowerCase(Locale.ROOT).equals("off");
    }

    private static String read(Path p) {
        try {
            return Files.isReadable(p) ? Files.readString(p) : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
}
