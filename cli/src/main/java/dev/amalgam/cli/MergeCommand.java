package dev.amalgam.cli;

import dev.amalgam.merge.MergeOptions;
import dev.amalgam.mergeservice.MergeJobType;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.jobtype.InvalidJobSpecException;
import dev.amalgam.platform.jobtype.LocalJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code amalgam merge CONFIG.yml OUT_DIR}: mergekit-yaml's command line; the merge job of the merge service, run
 * locally with model paths instead of artifacts.
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge models as a mergekit YAML config says, into a Hugging Face model directory.")
class MergeCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "mergekit YAML config (model paths relative to the current directory)")
    Path config;

    @Parameters(index = "1", description = "output directory (must not exist or be empty)")
    Path out;

    @Option(names = "--threads", description = "tensors merged in parallel (default: all cores)")
    Integer threads;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the random methods (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--max-shard-size", defaultValue = "5GB",
            description = "largest output shard, e.g. 2GB, 500MB (default: ${DEFAULT-VALUE})")
    String maxShardSize;

    @Option(names = "--validate-only", description = "check the config and the models, write nothing")
    boolean validateOnly;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException("config file not found: " + config);
        }
        MergeOptions options = MergeOptions.defaults().withMaxShardBytes(Sizes.parseBytes(maxShardSize, "--max-shard-size"));
        if (threads != null) {
            options = options.withThreads(threads);
        }
        ObjectNode spec = Json.object();
        spec.put("configYaml", Files.readString(config));
        spec.put("output", LocalJobCommand.OUTPUT_NAME);
        spec.put("seed", seed);
        MergeJobType type = new MergeJobType(options);
        if (validateOnly) {
            try {
                LocalJobs.validate(type, spec, Path.of("")).warnings().forEach(w -> System.err.println("warning: " + w));
            } catch (InvalidJobSpecException e) {
                return LocalJobCommand.problems("merge", e);
            }
            System.err.println("The config and models are valid.");
            return 0;
        }
        LocalJobCommand.requireFreshOutput(out);
        return LocalJobCommand.run("merge", type, spec, out, LocalJobCommand.workDirOf(out), LocalJobCommand.bar("merging"));
    }
}
