package dev.amalgam.pruningservice;

import dev.amalgam.job.Progress;
import dev.amalgam.job.SpecReader;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.eval.MultipleChoice;
import dev.amalgam.modelengine.eval.MultipleChoiceDoc;
import dev.amalgam.modelengine.eval.Perplexity;
import dev.amalgam.modelengine.eval.PerplexityResult;
import dev.amalgam.modelengine.eval.TaskFormat;
import dev.amalgam.modelengine.eval.TaskResult;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The evaluation job: the engine's perplexity of a model on a dataset, and/or zero-shot multiple-choice tasks scored
 * as lm-evaluation-harness 0.4 scores them ({@link MultipleChoice}); the numbers are the job's result.
 */
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

    /** A validated multiple-choice task: its documents are read (and checked) at validation. */
    public record ValidTask(String name, JobInput dataset, TaskFormat format, List<MultipleChoiceDoc> docs) {
    }

    /** A validated evaluation; {@code dataset} is null for tasks only. */
    public record ValidEvaluation(JobInput model, JobInput dataset, int seqLen, List<ValidTask> tasks, int batchSize)
            implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            List<JobInput> all = new ArrayList<>();
            all.add(model);
            if (dataset != null) {
                all.add(dataset);
            }
            tasks.forEach(t -> all.add(t.dataset()));
            return all;
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
        return "Queue an evaluation of a model: perplexity on a dataset and/or multiple-choice tasks";
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
        return read(json, json.string("model"));
    }

    /** Reads every field of an evaluation but the model (the comparison job names several). */
    static EvaluationJobSpec read(SpecReader json, String model) {
        return read(json, model, true);
    }

    /**
     * As {@link #read(SpecReader, String)}; with {@code required} false a spec with neither a dataset nor tasks is
     * no problem (a comparison of judgments only evaluates nothing).
     */
    static EvaluationJobSpec read(SpecReader json, String model, boolean required) {
        String dataset = json.string("dataset");
        int seqLen = json.integer("seqLen", 2, EvaluationJobSpec.MAX_SEQ_LEN, EvaluationJobSpec.DEFAULT_SEQ_LEN);
        List<EvaluationJobSpec.Task> tasks = null;
        List<SpecReader> taskReaders = json.objects("tasks");
        if (taskReaders != null) {
            if (taskReaders.size() > EvaluationJobSpec.MAX_TASKS) {
                json.problem("tasks", "at most " + EvaluationJobSpec.MAX_TASKS + " tasks, got " + taskReaders.size());
            }
            tasks = new ArrayList<>();
            Set<String> names = new HashSet<>();
            for (SpecReader t : taskReaders) {
                String name = t.requiredString("name", "the task's name");
                if (name != null && !names.add(name)) {
                    t.problem("name", "'" + name + "' names two tasks");
                }
                String data = t.requiredString("dataset", "the task's DATASET");
                String format = t.oneOf("format", TaskFormat.ids(), null);
                if (format == null && !t.has("format")) {
                    t.problem("format", "the record format is required (one of " + String.join(", ", TaskFormat.ids()) + ")");
                }
                Long limit = t.integer("limit", 1, 1_000_000_000);
                tasks.add(new EvaluationJobSpec.Task(name, data, format, limit == null ? null : limit.intValue()));
            }
        }
        int batchSize = json.integer("batchSize", 1, EvaluationJobSpec.MAX_BATCH_SIZE, EvaluationJobSpec.DEFAULT_BATCH_SIZE);
        if (required && dataset == null && !json.has("dataset") && (tasks == null || tasks.isEmpty())) {
            json.problem("give a \"dataset\" (perplexity), \"tasks\" (multiple choice), or both");
        }
        return new EvaluationJobSpec(model, dataset, seqLen, tasks, batchSize);
    }

    @Override
    public ValidEvaluation validate(EvaluationJobSpec spec, JobInputs inputs, List<String> problems) {
        JobInput model = inputs.model("model", spec.model(), problems);
        JobInput dataset = spec.dataset() == null ? null : inputs.jsonlDataset("dataset", spec.dataset(), problems);
        List<ValidTask> tasks = new ArrayList<>();
        List<EvaluationJobSpec.Task> specTasks = spec.tasks() == null ? List.of() : spec.tasks();
        for (int i = 0; i < specTasks.size(); i++) {
            EvaluationJobSpec.Task t = specTasks.get(i);
            String field = "tasks[" + i + "]";
            JobInput data = t.dataset() == null ? null : inputs.jsonlDataset(field + ".dataset", t.dataset(), problems);
            if (data == null || t.format() == null || t.name() == null) {
                continue;
            }
            TaskFormat format = TaskFormat.of(t.format());
            try {
                tasks.add(new ValidTask(t.name(), data, format, format.load(data.location(), t.limit())));
            } catch (RuntimeException e) {
                problems.add(field + ".dataset: " + e.getMessage());
            }
        }
        if (model != null && dataset != null && problems.isEmpty()) {
            // the perplexity window must fit the model's positions: from its config.json alone
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
        return problems.isEmpty() ? new ValidEvaluation(model, dataset, spec.seqLen(), List.copyOf(tasks), spec.batchSize())
                : null;
    }

    @Override
    public EvaluationJobResult run(ValidEvaluation job, JobRun run) {
        return evaluate(job, run);
    }

    /**
     * The evaluation itself. It only reports (progress, metrics, log) and checks for cancellation: it saves no
     * checkpoint and publishes nothing, so it needs no more than a {@link Progress} (the comparison job runs it once
     * per model with its own share of the progress).
     */
    EvaluationJobResult evaluate(ValidEvaluation job, Progress run) {
        run.progress(0, "evaluating " + job.model().name());
        // one share of the progress bar per part: the perplexity dataset, then each task
        int parts = (job.dataset() == null ? 0 : 1) + job.tasks().size();
        PerplexityResult ppl = null;
        List<EvaluationJobResult.TaskScore> scores = new ArrayList<>();
        List<TaskResult> results = new ArrayList<>();
        Map<String, Double> metrics = new LinkedHashMap<>();
        try (TextTokenizer tokenizer = TextTokenizer.load(job.model().location());
                LlamaModel model = CheckpointLoader.load(job.model().location(), engine)) {
            int part = 0;
            if (job.dataset() != null) {
                int at = part++;
                ppl = Perplexity.evaluate(model, Perplexity.loadDataset(job.dataset().location(), tokenizer, job.seqLen()),
                        BlockMask.none(), 1, (done, total) -> {
                            run.throwIfCancelled();
                            run.progress((at + done / (double) total) / parts, "perplexity: " + done + " of " + total + " chunks");
                        });
                metrics.put("perplexity", ppl.perplexity());
            }
            MultipleChoice.Encoding encoding = MultipleChoice.Encoding.of(tokenizer);
            for (ValidTask t : job.tasks()) {
                int at = part++;
                TaskResult r = MultipleChoice.evaluate(model, encoding, t.name(), t.format(), t.docs(), BlockMask.none(),
                        job.batchSize(), (done, total) -> {
                            run.throwIfCancelled();
                            run.progress((at + done / (double) total) / parts,
                                    t.name() + ": " + done + " of " + total + " choices");
                        });
                results.add(r);
                scores.add(new EvaluationJobResult.TaskScore(r.name(), r.format(), r.docs(), r.acc(), r.accStderr(),
                        r.accNorm(), r.accNormStderr()));
                metrics.put(t.name() + (r.accNorm() != null ? ".acc_norm" : ".acc"), r.headline());
            }
        }
        Double average = results.isEmpty() ? null : TaskResult.average(results);
        if (average != null) {
            metrics.put("average", average);
        }
        run.metrics(null, 0, metrics);
        return new EvaluationJobResult(ppl == null ? null : ppl.perplexity(), ppl == null ? null : ppl.tokens(),
                ppl == null ? null : ppl.chunks(), ppl == null ? null : ppl.totalNll(), ppl == null ? null : job.seqLen(),
                scores, average);
    }
}
