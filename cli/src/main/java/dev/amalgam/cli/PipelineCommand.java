package dev.amalgam.cli;

import dev.amalgam.fusionservice.FusionJobType;
import dev.amalgam.fusionservice.RepresentationJobType;
import dev.amalgam.job.CancelledException;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.merge.config.MultiStageConfig;
import dev.amalgam.mergeservice.MergeJobType;
import dev.amalgam.mergeservice.MergekitPipelines;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.jobtype.InvalidJobSpecException;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.pipeline.LocalPipelines;
import dev.amalgam.platform.pipeline.PipelineSpec;
import dev.amalgam.platform.pipeline.PipelineSpecReader;
import dev.amalgam.pruningservice.EvaluationJobType;
import dev.amalgam.pruningservice.PruningJobType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * {@code amalgam pipeline SPEC OUT}: a pipeline (JSON or YAML with {@code steps}), or mergekit's multi-stage YAML, run
 * locally step by step with each step's job type, as the platform's workers would run its jobs, on paths instead of
 * artifacts. Step NAME writes OUT/NAME; running the same command again resumes after the last finished step.
 */
@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = "Run a pipeline of jobs (merge, prune, evaluate, fuse, represent), or mergekit's multi-stage YAML, into OUT/STEP.")
class PipelineCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "pipeline spec (JSON or YAML: steps with name, type, spec), or a mergekit multi-stage YAML")
    Path spec;

    @Parameters(index = "1", description = "output directory: OUT/STEP per step, OUT/STEP.json its result")
    Path out;

    @Option(names = "--work-dir", description = "the steps' checkpoints (default: OUT.work)")
    Path workDir;

    @Option(names = "--device", defaultValue = "cpu", description = "prune and evaluate steps: cpu, or gpu[:N] (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--seed", description = "mergekit multi-stage YAML: the seed of every merge (default 0)")
    Long seed;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(spec)) {
            throw new IllegalArgumentException("pipeline spec not found: " + spec);
        }
        String text = Files.readString(spec);
        JsonNode json;
        try {
            json = readSpec(text, seed);
        } catch (MergeConfigException e) {
            System.err.println("amalgam pipeline: the mergekit config has " + e.problems().size() + " problem(s):");
            e.problems().forEach(p -> System.err.println("  - " + p));
            return 2;
        }
        List<String> problems = new ArrayList<>();
        PipelineSpec pipeline = PipelineSpecReader.read(json, problems);
        if (pipeline == null) {
            return LocalJobCommand.problems("pipeline", new InvalidJobSpecException(problems));
        }
        EngineOptions engine = EngineOptions.parse(device);
        List<JobType<?, ?, ?>> types = List.of(new MergeJobType(), new PruningJobType(engine), new EvaluationJobType(engine),
                new FusionJobType(), new RepresentationJobType());
        Path work = workDir != null ? workDir : LocalJobCommand.workDirOf(out);
        try {
            JsonNode summary = LocalPipelines.run(pipeline, types, Path.of(""), out, work,
                    step -> LocalJobCommand.bar(step));
            System.out.println(Json.toPrettyString(summary));
            return 0;
        } catch (InvalidJobSpecException e) {
            return LocalJobCommand.problems("pipeline", e);
        } catch (CancelledException e) {
            return LocalJobCommand.STOPPED;
        }
    }

    /** The pipeline spec of a file: {@code steps} as written, or mergekit's multi-stage YAML turned into merge steps. */
    static JsonNode readSpec(String text, Long seed) {
        JsonNode json;
        try {
            json = YAMLMapper.builder().build().readTree(text);
        } catch (JacksonException e) {
            json = null; // several YAML documents: mergekit's multi-stage form
        }
        if (json != null && json.isObject() && json.has("steps")) {
            return json;
        }
        if (MultiStageConfig.isMultiStage(text)) {
            return MergekitPipelines.toPipeline(text, LocalJobCommand.OUTPUT_NAME, seed);
        }
        throw new IllegalArgumentException("not a pipeline: a pipeline spec has 'steps'; a mergekit multi-stage YAML has documents"
                + " with 'name'");
    }
}
