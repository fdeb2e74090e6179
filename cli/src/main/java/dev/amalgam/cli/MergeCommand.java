package dev.amalgam.cli;

import dev.amalgam.merge.MergeOptions;
import dev.amalgam.merge.MergeResult;
import dev.amalgam.merge.MergeRunner;
import dev.amalgam.merge.ModelResolver;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.modelio.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code amalgam merge CONFIG.yml OUT_DIR}: mergekit-yaml's command line, on the same merge library as the service. */
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
        MergeOptions options = MergeOptions.defaults().withSeed(seed).withMaxShardBytes(Sizes.parseBytes(maxShardSize, "--max-shard-size"));
        if (threads != null) {
            options = options.withThreads(threads);
        }
        ModelResolver resolver = ModelResolver.paths(Path.of("").toAbsolutePath());
        try {
            MergeConfig parsed = MergeConfig.parseYaml(Files.readString(config));
            if (validateOnly) {
                new MergeRunner().validate(parsed, resolver).forEach(w -> System.err.println("warning: " + w));
                System.err.println("The config and models are valid.");
                return 0;
            }
            ProgressBar bar = new ProgressBar(System.err, "merging");
            MergeResult result = new MergeRunner().run(parsed, resolver, out, options, (done, total, name) -> bar.update(done, total, name));
            result.warnings().forEach(w -> System.err.println("warning: " + w));
            System.out.println(Json.toPrettyString(Json.MAPPER.valueToTree(result)));
            return 0;
        } catch (MergeConfigException e) {
            System.err.println("amalgam merge: the config has " + e.problems().size() + " problem(s):");
            e.problems().forEach(p -> System.err.println("  - " + p));
            return 2;
        }
    }
}
