package dev.amalgam.mergeservice;

import dev.amalgam.job.SpecReader;
import dev.amalgam.merge.MergeOptions;
import dev.amalgam.merge.MergeResult;
import dev.amalgam.merge.MergeRunner;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.merge.config.ModelReference;
import dev.amalgam.modelio.Json;
import dev.amalgam.modelio.LoraAdapter;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.Published;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The merge job: mergekit's config, validated completely before it is queued (the config, every model's
 * architecture, tensor names and shapes, read from the headers only; a {@code model+adapter} reference names a MODEL
 * artifact and a CHECKPOINT artifact holding a PEFT adapter), then the merge library writes the merged
 * model, which is published as a MODEL artifact with lineage to the merged models. Progress is reported per
 * tensor (at most every percent); cancellation stops the merge between tensors.
 */
@Component
public final class MergeJobType implements JobType<MergeJobSpec, MergeJobType.ValidMerge, MergeJobResult> {

    private final MergeOptions options;

    @Autowired
    public MergeJobType() {
        this(MergeOptions.defaults());
    }

    /** @param options threads and shard size (the CLI's options); the seed comes from each spec */
    public MergeJobType(MergeOptions options) {
        this.options = options;
    }

    /**
     * A validated merge: the parsed config and the artifact each part of its references names (the model, and for
     * {@code model+adapter} the adapter CHECKPOINT), by that part.
     */
    public record ValidMerge(MergeConfig config, Map<String, JobInput> models, String output, long seed,
                             List<String> warnings) implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            return List.copyOf(models.values());
        }
    }

    @Override
    public String name() {
        return "merge";
    }

    @Override
    public int specVersion() {
        return 1;
    }

    @Override
    public String path() {
        return "/api/v1/merges";
    }

    @Override
    public String summary() {
        return "Queue a merge: mergekit's config (JSON or YAML) with artifact ids or names as models";
    }

    @Override
    public Class<MergeJobSpec> specClass() {
        return MergeJobSpec.class;
    }

    @Override
    public Class<MergeJobResult> resultClass() {
        return MergeJobResult.class;
    }

    @Override
    public MergeJobSpec read(SpecReader json) {
        return new MergeJobSpec(json.raw("config"), json.string("configYaml"),
                json.requiredString("output", "the name of the merged MODEL artifact"),
                json.longInteger("seed", 0));
    }

    @Override
    public ValidMerge validate(MergeJobSpec spec, JobInputs inputs, List<String> problems) {
        if (spec.output() != null) {
            inputs.checkOutputNames("output", Map.of("the merged model", spec.output()), problems);
        }
        MergeConfig config = parse(spec, problems);
        if (config == null) {
            return null;
        }
        problems.addAll(config.validate().stream().map(p -> "config: " + p).toList());
        // each part of a reference is an artifact of the tenant: model@revision+adapter names the MODEL "model"
        // and the CHECKPOINT "adapter" (a PEFT adapter directory); the merge resolves the parts through this map
        Map<String, JobInput> models = new LinkedHashMap<>();
        for (String reference : config.referencedModels()) {
            ModelReference r = ModelReference.parse(reference);
            JobInput model = inputs.model("config: model '" + reference + "'", r.path(), problems);
            if (model != null) {
                models.put(r.path(), model);
            }
            if (r.hasLora()) {
                String field = "config: model '" + reference + "': adapter";
                JobInput adapter = inputs.checkpoint(field, r.loraPath(), problems);
                if (adapter != null && !LoraAdapter.isAdapter(adapter.location())) {
                    problems.add(field + " '" + r.loraPath() + "' is not a PEFT adapter (no "
                            + LoraAdapter.CONFIG_FILE + ")");
                } else if (adapter != null) {
                    models.put(r.loraPath(), adapter);
                }
            }
        }
        if (!problems.isEmpty()) {
            return null;
        }
        try {
            // architectures, tensor names and shapes, parameters: from the headers only, before any work
            List<String> warnings = new MergeRunner().validate(config, reference -> models.get(reference).location());
            return new ValidMerge(config, models, spec.output(), spec.seed() == null ? 0 : spec.seed(), warnings);
        } catch (MergeConfigException e) {
            e.problems().forEach(p -> problems.add("config: " + p));
            return null;
        }
    }

    private static MergeConfig parse(MergeJobSpec spec, List<String> problems) {
        if ((spec.config() == null) == (spec.configYaml() == null)) {
            // a configYaml of the wrong type is already a problem of its own
            if (!problems.stream().anyMatch(p -> p.startsWith("configYaml:"))) {
                problems.add("config: give exactly one of 'config' (JSON) or 'configYaml' (mergekit YAML text)");
            }
            return null;
        }
        try {
            if (spec.configYaml() != null) {
                return MergeConfig.parseYaml(spec.configYaml());
            }
            if (!spec.config().isObject()) {
                problems.add("config: must be an object with mergekit's structure");
                return null;
            }
            return MergeConfig.parseJson(Json.MAPPER.writeValueAsString(spec.config()));
        } catch (MergeConfigException e) {
            e.problems().forEach(p -> problems.add("config: " + p));
            return null;
        }
    }

    @Override
    public MergeJobResult run(ValidMerge job, JobRun run) {
        Path out = run.newStagingDir().resolve("model");
        // the job's own progress and cancellation reach the merge as they are
        MergeResult result = new MergeRunner().run(job.config(), reference -> job.models().get(reference).location(), out,
                options.withSeed(job.seed()), run);
        Published model = run.publishAll(List.of(new JobOutput(ArtifactKind.MODEL, "model", job.output(), out)), job.inputs()).get(0);
        return new MergeJobResult(model.reference(), result.method(), result.tensors(), result.parameterCount(),
                result.numLayers(), result.vocabSize(), result.dtype(), result.tiedEmbeddings(), result.warnings(),
                result.millis());
    }
}
