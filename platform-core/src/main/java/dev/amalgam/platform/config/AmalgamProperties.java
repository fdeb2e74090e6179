package dev.amalgam.platform.config;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Settings shared by every Amalgam service ({@code amalgam.*}).
 *
 * @param dataDir    where artifacts, staging space and the generated API key live
 * @param role       what this process does: serve the API, run jobs, or both
 * @param importRoot the only directory from which model directories and datasets may be registered
 *                   in place; empty disables registration from disk
 * @param worker     job worker settings
 * @param auth       authentication settings
 * @param uploads    limits on one artifact upload
 */
@Validated
@ConfigurationProperties("amalgam")
public record AmalgamProperties(
        @NotNull @DefaultValue("./amalgam-data") Path dataDir,
        @NotNull @DefaultValue("both") Role role,
        Path importRoot,
        @NotNull @DefaultValue Worker worker,
        @NotNull @DefaultValue Auth auth,
        @NotNull @DefaultValue Uploads uploads) {

    /** Which half of a service runs in this process. */
    public enum Role {
        api, worker, both;

        public boolean serves() {
            return this != worker;
        }

        public boolean works() {
            return this != api;
        }
    }

    /**
     * @param types          job types this process works on (empty: every type it has a handler for)
     * @param concurrency    jobs run at once
     * @param lease          how long a claim lasts without a heartbeat
     * @param heartbeat      how often a running job extends its lease
     * @param pollInterval   fallback polling when no notification arrives
     * @param reapInterval   how often expired leases past their last attempt are failed
     * @param stopTimeout    how long a stopping worker waits for its running jobs to reach a safe point
     *                       before handing them back regardless
     * @param intraOpThreads PyTorch CPU threads per job; 0 sizes them to the process's CPU quota divided by
     *                       the jobs it runs at once (see ComputeThreads)
     */
    public record Worker(
            List<String> types,
            @Min(1) @DefaultValue("1") int concurrency,
            @NotNull @DefaultValue("60s") Duration lease,
            @NotNull @DefaultValue("10s") Duration heartbeat,
            @NotNull @DefaultValue("5s") Duration pollInterval,
            @NotNull @DefaultValue("15s") Duration reapInterval,
            @NotNull @DefaultValue("30s") Duration stopTimeout,
            @Min(0) @DefaultValue("0") int intraOpThreads) {
        public Worker {
            types = types == null ? List.of() : List.copyOf(types);
        }
    }

    /**
     * @param bootstrapKey the first admin key (env AMALGAM_API_KEY); generated when absent
     * @param bootstrap    whether this process creates the first tenant and admin key (the gateway does)
     */
    public record Auth(String bootstrapKey, @DefaultValue("false") boolean bootstrap) {
    }

    /**
     * Limits on one upload (a tar or a single file), enforced while it streams in; an upload past
     * either limit is refused with 413 and its staged files are removed. An import from the import root
     * is held to the same limits, checked before it is copied (422).
     *
     * @param maxBytes   total bytes written for one upload (every file of a tar together); the default,
     *                   64GB, holds a 32-billion-parameter model in bf16
     * @param maxEntries entries (files and directories) in one tar
     */
    public record Uploads(
            @NotNull @DefaultValue("64GB") DataSize maxBytes,
            @Min(1) @DefaultValue("10000") int maxEntries) {
    }

    public Path stagingDir() {
        return dataDir.resolve("staging");
    }

    public Path artifactDir() {
        return dataDir.resolve("artifacts");
    }
}
