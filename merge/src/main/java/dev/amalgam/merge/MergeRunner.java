package dev.amalgam.merge;

import dev.amalgam.job.Progress;
import dev.amalgam.merge.config.DtypeNames;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.merge.config.ModelReference;
import dev.amalgam.merge.plan.MergePlan;
import dev.amalgam.merge.plan.MergePlanner;
import dev.amalgam.merge.plan.PlannedTensor;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.ShardedCheckpointWriter;
import dev.amalgam.modelio.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The merge library's entry point: validates a config against the models (every problem at once, before any
 * tensor is read), merges tensor by tensor in parallel, writes a Hugging Face model directory into a temporary
 * directory beside {@code outDir} and renames it into place, so a failed merge leaves nothing behind.
 *
 * <pre>{@code
 * MergeResult r = new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(Path.of(".")),
 *         Path.of("out"), MergeOptions.defaults(), (done, total, name) -> bar.update(done, total));
 * }</pre>
 */
public final class MergeRunner {

    /**
     * Validates only: opens the models (headers and configs) and plans the merge.
     *
     * @return the config's warnings (what is ignored, as mergekit ignores it) and the plan's
     * @throws MergeConfigException listing every problem
     */
    public List<String> validate(MergeConfig config, ModelResolver resolver) {
        Map<String, HfModelDir> models = open(config, resolver, null);
        try {
            return warnings(config, MergePlanner.plan(config, models, 0).warnings());
        } finally {
            closeAll(models);
        }
    }

    /**
     * Runs a merge.
     *
     * @throws MergeConfigException when the config or the models have problems (nothing written)
     * @param progress reports the written tensors (at most once per percent); when it says cancelled, the merge stops
     *                 after the tensors in flight and throws {@link dev.amalgam.job.CancelledException}
     * @throws MergeException       when the merge fails while running (nothing published)
     */
    public MergeResult run(MergeConfig config, ModelResolver resolver, Path outDir, MergeOptions options,
                           Progress progress) {
        long start = System.nanoTime();
        Path target = outDir.toAbsolutePath().normalize();
        Map<String, HfModelDir> models = open(config, resolver, target);
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            MergePlan plan = MergePlanner.plan(config, models, options.seed());
            List<TensorSpec> specs = plan.tensors().stream()
                    .map(t -> new TensorSpec(t.name(), t.dtype(), t.shape())).toList();
            ShardedCheckpointWriter writer = ShardedCheckpointWriter.create(tmp, specs, options.maxShardBytes());
            try {
                new TensorExecutor(plan, models, writer, progress, options.memoryBudget()).run(options.threads());
            } catch (RuntimeException e) {
                writer.abort();
                throw e;
            }
            writer.close();
            OutputFiles.write(tmp, target.getFileName().toString(), config, plan, models);
            publish(tmp, target);
            long bytes = specs.stream().mapToLong(TensorSpec::byteSize).sum();
            long params = plan.tensors().stream().mapToLong(PlannedTensor::numel).sum();
            List<String> files;
            try (Stream<Path> s = Files.list(target)) {
                files = s.map(p -> p.getFileName().toString()).sorted().toList();
            }
            return new MergeResult(target, plan.method().name(), specs.size(), params, bytes, plan.numLayers(),
                    plan.vocabSize(), DtypeNames.torchName(plan.dtype()), plan.tiedEmbeddings(),
                    config.referencedModels(), files, warnings(config, plan.warnings()),
                    (System.nanoTime() - start) / 1_000_000);
        } catch (IOException e) {
            throw new MergeException("cannot write the merged model: " + e.getMessage(), e);
        } finally {
            deleteRecursively(tmp);
            closeAll(models);
        }
    }


    private static Map<String, HfModelDir> open(MergeConfig config, ModelResolver resolver, Path outDir) {
        List<String> problems = new ArrayList<>(config.validate());
        if (outDir != null && Files.exists(outDir)) {
            try (Stream<Path> s = Files.list(outDir)) {
                if (s.findAny().isPresent()) {
                    problems.add("output directory " + outDir + " exists and is not empty");
                }
            } catch (IOException e) {
                problems.add("output path " + outDir + " is not a usable directory: " + e.getMessage());
            }
        }
        Map<String, HfModelDir> models = new LinkedHashMap<>();
        for (String ref : config.referencedModels()) {
            try {
                // mergekit's model+lora: the adapter is applied to the model before merging (in FP32, on read)
                ModelReference r = ModelReference.parse(ref);
                Path dir = resolver.resolve(r.path());
                Path adapter = r.hasLora() ? resolver.resolve(r.loraPath()) : null;
                models.put(ref, HfModelDir.open(dir, adapter));
            } catch (RuntimeException e) {
                problems.add("model '" + ref + "': " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            closeAll(models);
            throw new MergeConfigException(problems);
        }
        return models;
    }

    /** The references' warnings (ignored revisions) before the plan's. */
    /** What the config ignores, what its model references ignore, then the plan's warnings. */
    private static List<String> warnings(MergeConfig config, List<String> planWarnings) {
        List<String> w = new ArrayList<>(config.warnings());
        for (String ref : config.referencedModels()) {
            w.addAll(ModelReference.parse(ref).warnings());
        }
        w.addAll(planWarnings);
        return w;
    }

    private static void publish(Path tmp, Path target) throws IOException {
        if (Files.isDirectory(target)) {
            Files.delete(target); // checked empty before the merge
        }
        Files.createDirectories(target.getParent());
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void closeAll(Map<String, HfModelDir> models) {
        models.values().forEach(m -> {
            try {
                m.close();
            } catch (RuntimeException ignored) {
                // closing a read-only mapping cannot lose data
            }
        });
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
