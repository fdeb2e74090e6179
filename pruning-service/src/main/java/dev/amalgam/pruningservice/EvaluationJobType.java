package dev.amalgam.pruningservice;

import dev.amalgam.job.SpecReader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.eval.Perplexity;
import dev.amalgam.modelengine.eval.PerplexityResult;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/** The evaluation job: the engine's perplexity of a model on a dataset; the numbers are the job's result. */
@Component
public final class EvaluationJobType implements JobType<EvaluationJobSpec, EvaluationJobType.ValidEvaluation, EvaluationJobResult> {

    private final EngineOptions engine;

    @org.springframework.beans.factory.annotation.Autowired
    public EvaluationJobType(@Value("${amalgam.engine.device:cpu}") String device) {
        this(EngineOptions.parse(device));
    }

    public EvaluationJobType(EngineOptions engine) {
        this.engine = engine;
    }

    /** A validated evaluation. */
    public record ValidEvaluation(JobInput model, JobInput dataset, int seqLen) implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            return List.of(model, dataset);
        }
    }

    @Override
    public String name() {
        return "evaluate";
    }

    @Override
    public int specVersion() {
        return 1;
    }

    @Override
    public String path() {
        return "/api/v1/evaluations";
    }

    @Override
    public String summary() {
        return "Queue a perplexity evaluation of a model on a dataset";
    }

    @Override
    public Class<EvaluationJobSpec> specClass() {
        return EvaluationJobSpec.class;
    }

    @Override
    public Class<EvaluationJobResult> resultClass() {
        return EvaluationJobResult.class;
    }

    @Override
    public EvaluationJobSpec read(SpecReader json) {
        return new EvaluationJobSpec(json.string("model"), json.string("dataset"),
                json.integer("seqLen", 2, EvaluationJobSpec.MAX_SEQ_LEN, EvaluationJobSpec.DEFAULT_SEQ_LEN));
    }

    @Override
    public ValidEvaluation validate(EvaluationJobSpec spec, JobInputs inputs, List<String> problems) {
        JobInput model = inputs.model("model", spec.model(), problems);
        JobInput dataset = inputs.jsonlDataset("dataset", spec.dataset(), problems);
        if (model != null && problems.isEmpty()) {
            // the sequence must fit the model's positions: from its config.json alone
            try {
                LlamaConfig config = LlamaConfig.read(model.location().resolve(HfModelDir.CONFIG_FILE));
                if (spec.seqLen() > config.maxPositionEmbeddings()) {
                    problems.add("seqLen: " + spec.seqLen() + " exceeds the model's max_position_embeddings "
                            + config.maxPositionEmbeddings());
                }
            } catch (RuntimeException e) {
                problems.add("model: " + e.getMessage());
            }
        }
        return problems.isEmpty() ? new ValidEvaluation(model, dataset, spec.seqLen()) : null;
    }

    @Override
    public EvaluationJobResult run(ValidEvaluation job, JobRun run) {
        run.progress(0, "evaluating " + job.model().name() + " on " + job.dataset().name());
        PerplexityResult r = Perplexity.evaluate(job.model().location(), job.dataset().location(), job.seqLen(), engine,
                (done, total) -> {
                    run.throwIfCancelled();
                    run.progress(done / (double) total, "evaluated " + done + " of " + total + " chunks");
                });
        run.metrics(null, 0, Map.of("perplexity", r.perplexity()));
        return new EvaluationJobResult(r.perplexity(), r.tokens(), r.chunks(), r.totalNll(), job.seqLen());
    }
}
