package dev.amalgam.pruningservice;

import dev.amalgam.job.SpecReader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.Published;
import dev.amalgam.pruning.PruneSpec;
import dev.amalgam.pruning.PruningListener;
import dev.amalgam.pruning.PruningProgress;
import dev.amalgam.pruning.PruningResult;
import dev.amalgam.pruning.PruningRunner;
import dev.amalgam.pruning.PruningState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * The pruning job: BlockPruner or a baseline, with the pruning library. The removal state after every search step
 * is the job's checkpoint, so a job whose worker died resumes at the next step; outputs are the pruned MODEL and the
 * REPORT artifact, published together, with lineage to the model and datasets.
 */
@Component
public final class PruningJobType implements JobType<PruningJobSpec, PruningJobType.ValidPruning, PruningJobResult> {

    private final EngineOptions engine;

    @org.springframework.beans.factory.annotation.Autowired
    public PruningJobType(@Value("${amalgam.engine.device:cpu}") String device) {
        this(EngineOptions.parse(device));
    }

    public PruningJobType(EngineOptions engine) {
        this.engine = engine;
    }

    /** A validated pruning job. */
    public record ValidPruning(PruneSpec pruning, JobInput model, JobInput dataset, JobInput evalDataset, String name)
            implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            List<JobInput> inputs = new ArrayList<>(List.of(model, dataset));
            if (evalDataset != null) {
                inputs.add(evalDataset);
            }
            return inputs;
        }
    }

    @Override
    public String name() {
        return "prune";
    }

    @Override
    public int specVersion() {
        return 1;
    }

    @Override
    public String path() {
        return "/api/v1/prunings";
    }

    @Override
    public String summary() {
        return "Queue a pruning job (BlockPruner or a baseline) of a model with a calibration dataset";
    }

    @Override
    public Class<PruningJobSpec> specClass() {
        return PruningJobSpec.class;
    }

    @Override
    public Class<PruningJobResult> resultClass() {
        return PruningJobResult.class;
    }

    @Override
    public Map<String, List<String>> allowedValues() {
        return Map.of("method", dev.amalgam.pruning.PruneMethods.all().stream().map(m -> m.specName()).toList());
    }

    @Override
    public PruningJobSpec read(SpecReader json) {
        String model = json.string("model");
        String dataset = json.string("dataset");
        String evalDataset = json.string("evalDataset");
        String name = json.requiredString("name", "the name of the pruned MODEL artifact");
        PruneSpec pruning = PruneSpec.read(json);
        return new PruningJobSpec(model, dataset, evalDataset, name, pruning);
    }

    @Override
    public ValidPruning validate(PruningJobSpec spec, JobInputs inputs, List<String> problems) {
        JobInput model = inputs.model("model", spec.model(), problems);
        JobInput dataset = inputs.jsonlDataset("dataset", spec.dataset(), problems);
        JobInput eval = spec.evalDataset() == null ? null : inputs.jsonlDataset("evalDataset", spec.evalDataset(), problems);
        if (spec.name() != null) {
            Map<String, String> names = new LinkedHashMap<>();
            names.put("the pruned model", spec.name());
            names.put("the report", PruningJobSpec.reportName(spec.name()));
            inputs.checkOutputNames("name", names, problems);
        }
        if (model != null && spec.pruning() != null) {
            // block counts and ratios are checked against the model's own shape, from its config.json alone
            try (var dir = HfModelDir.open(model.location())) {
                problems.addAll(spec.pruning().validateFor(LlamaConfig.fromJson(dir.config())));
            } catch (RuntimeException e) {
                problems.add("model: " + e.getMessage());
            }
        }
        return problems.isEmpty() ? new ValidPruning(spec.pruning(), model, dataset, eval, spec.name()) : null;
    }

    @Override
    public PruningJobResult run(ValidPruning job, JobRun run) throws Exception {
        JsonNode saved = run.checkpoint();
        PruningState resume = saved == null ? null : PruningState.fromJson(saved);
        if (resume != null) {
            run.log("Resuming after step " + resume.steps().size() + " from the job's checkpoint");
        }
        Path out = run.newStagingDir();
        PruningResult result = PruningRunner.run(job.pruning(), job.model().location(), job.dataset().location(),
                    job.evalDataset() == null ? null : job.evalDataset().location(), out, resume, listener(run), engine);
        Path reportDir = run.newStagingDir();
        Files.move(result.reportFile(), reportDir.resolve(PruningRunner.REPORT_FILE));
        // the model and its report are published together or not at all
        List<Published> published = run.publishAll(List.of(
                new JobOutput(ArtifactKind.MODEL, "model", job.name(), out.resolve(PruningRunner.MODEL_DIR)),
                new JobOutput(ArtifactKind.REPORT, "report", PruningJobSpec.reportName(job.name()), reportDir)), job.inputs());

        return new PruningJobResult(published.get(0).reference(), published.get(1).reference(),
                job.pruning().method().specName(), result.removedBlocks().stream().map(Object::toString).toList(),
                result.parameterRatio(), result.calibrationPerplexityBefore(), result.calibrationPerplexityAfter(),
                result.evalPerplexityBefore(), result.evalPerplexityAfter(), result.denseParameters(),
                result.prunedParameters());
    }

    private static PruningListener listener(JobRun run) {
        return new PruningListener() {
            @Override
            public void onStep(PruningProgress p) {
                run.saveCheckpoint(p.state().toJson());
                run.metrics(null, p.step(), Map.of("perplexity", p.perplexity(), "parameterRatio", p.parameterRatio()));
                run.progress(p.step() / (double) Math.max(1, p.totalSteps()),
                        "step " + p.step() + " of " + p.totalSteps() + ": removed " + p.removed() + ", perplexity "
                                + String.format("%.4f", p.perplexity()));
            }

            @Override
            public boolean isCancelled() {
                return run.isCancelled();
            }
        };
    }
}
