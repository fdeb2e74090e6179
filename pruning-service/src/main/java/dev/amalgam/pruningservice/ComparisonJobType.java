package dev.amalgam.pruningservice;

import dev.amalgam.job.Progress;
import dev.amalgam.job.SpecReader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.Published;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The comparison job: the same evaluation ({@link EvaluationJobType}: perplexity and/or multiple-choice tasks) of
 * several models, one after another, tabled side by side in a REPORT artifact ({@code report.json},
 * {@code report.md}) in the layout of the papers' tables. Each finished model's numbers are checkpointed, so a
 * job taken over after a crash evaluates only the models still missing.
 */
@Component
public final class ComparisonJobType
        implements JobType<ComparisonJobSpec, ComparisonJobType.ValidComparison, ComparisonJobResult> {

    /** The report files. */
    static final String REPORT_JSON = "report.json";
    static final String REPORT_MD = "report.md";

    private final EvaluationJobType evaluation;

    @org.springframework.beans.factory.annotation.Autowired
    public ComparisonJobType(@Value("${amalgam.engine.device:cpu}") String device) {
        this(EngineOptions.parse(device));
    }

    public ComparisonJobType(EngineOptions engine) {
        this.evaluation = new EvaluationJobType(engine);
    }

    /** A validated comparison: one validated evaluation per model, in row order. */
    public record ValidComparison(List<EvaluationJobType.ValidEvaluation> evaluations, String name)
            implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            Set<JobInput> all = new LinkedHashSet<>();
            evaluations.forEach(e -> all.addAll(e.inputs()));
            return List.copyOf(all);
        }
    }

    @Override
    public String name() {
        return "compare";
    }

    @Override
    public int specVersion() {
        return 1;
    }

    @Override
    public String path() {
        return "/api/v1/comparisons";
    }

    @Override
    public String summary() {
        return "Queue a comparison: the same evaluation of several models, tabled in a REPORT as the papers do";
    }

    @Override
    public Class<ComparisonJobSpec> specClass() {
        return ComparisonJobSpec.class;
    }

    @Override
    public Class<ComparisonJobResult> resultClass() {
        return ComparisonJobResult.class;
    }

    @Override
    public ComparisonJobSpec read(SpecReader json) {
        List<String> models = json.strings("models");
        if (models == null && !json.has("models")) {
            json.problem("models", "required: the MODEL artifacts to compare");
        } else if (models != null) {
            if (models.isEmpty() || models.size() > ComparisonJobSpec.MAX_MODELS) {
                json.problem("models", "between 1 and " + ComparisonJobSpec.MAX_MODELS + " models, got " + models.size());
            }
            Set<String> seen = new HashSet<>();
            for (String m : models) {
                if (!seen.add(m)) {
                    json.problem("models", "'" + m + "' is named twice");
                }
            }
        }
        EvaluationJobSpec e = EvaluationJobType.read(json, null);
        String name = json.requiredString("name", "the name of the REPORT artifact");
        return new ComparisonJobSpec(models, e.dataset(), e.seqLen(), e.tasks(), e.batchSize(), name);
    }

    @Override
    public ValidComparison validate(ComparisonJobSpec spec, JobInputs inputs, List<String> problems) {
        List<EvaluationJobType.ValidEvaluation> evaluations = new ArrayList<>();
        List<String> models = spec.models() == null ? List.of() : spec.models();
        for (int i = 0; i < models.size(); i++) {
            // the first model's evaluation checks the datasets and tasks; the others only their own model
            ComparisonJobSpec forThis = i == 0 ? spec
                    : new ComparisonJobSpec(spec.models(), spec.dataset(), spec.seqLen(), null, spec.batchSize(), spec.name());
            List<String> own = new ArrayList<>();
            EvaluationJobType.ValidEvaluation v = evaluation.validate(forThis.evaluation(models.get(i)), inputs, own);
            for (String p : own) {
                if (p.startsWith("model: ") || p.startsWith("seqLen: ")) {
                    problems.add("models[" + i + "]" + p.substring(p.indexOf(':')));
                } else if (i == 0) {
                    problems.add(p);
                }
            }
            if (v != null) {
                evaluations.add(v);
            }
        }
        if (spec.name() != null) {
            inputs.checkOutputNames("name", Map.of("the report", spec.name()), problems);
        }
        if (!problems.isEmpty() || evaluations.size() != models.size()) {
            return null;
        }
        // the first evaluation holds the tasks' documents; every model is scored on them
        EvaluationJobType.ValidEvaluation first = evaluations.get(0);
        List<EvaluationJobType.ValidEvaluation> all = new ArrayList<>();
        for (EvaluationJobType.ValidEvaluation v : evaluations) {
            all.add(new EvaluationJobType.ValidEvaluation(v.model(), first.dataset(), first.seqLen(), first.tasks(),
                    first.batchSize()));
        }
        return new ValidComparison(List.copyOf(all), spec.name());
    }

    @Override
    public ComparisonJobResult run(ValidComparison job, JobRun run) throws Exception {
        int n = job.evaluations().size();
        List<EvaluationJobResult> done = new ArrayList<>(); // the checkpointed models' numbers, in row order
        JsonNode saved = run.checkpoint();
        if (saved != null && saved.has("done")) {
            for (JsonNode r : saved.get("done")) {
                done.add(Json.MAPPER.treeToValue(r, EvaluationJobResult.class));
            }
            run.log("resuming after " + done.size() + " of " + n + " models");
        }
        for (int i = done.size(); i < n; i++) {
            EvaluationJobType.ValidEvaluation e = job.evaluations().get(i);
            int at = i;
            EvaluationJobResult r = evaluation.run(e, new ModelRun(run, e.model().name(),
                    (f, m) -> run.progress((at + f) / n, e.model().name() + ": " + m)));
            done.add(r);
            ObjectNode state = Json.object();
            ArrayNode list = state.putArray("done");
            done.forEach(d -> list.add(Json.MAPPER.valueToTree(d)));
            run.saveCheckpoint(state);
        }
        List<String> columns = job.evaluations().get(0).tasks().stream().map(EvaluationJobType.ValidTask::name).toList();
        List<ComparisonJobResult.Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(ComparisonTable.row(job.evaluations().get(i).model().name(), done.get(i)));
        }
        String markdown = ComparisonTable.markdown(columns, rows);
        Path dir = run.newStagingDir();
        ObjectNode report = Json.object();
        report.put("kind", "comparison");
        report.set("columns", Json.MAPPER.valueToTree(columns));
        report.set("rows", Json.MAPPER.valueToTree(rows));
        ArrayNode details = report.putArray("evaluations");
        for (int i = 0; i < n; i++) {
            ObjectNode d = details.addObject();
            d.put("model", job.evaluations().get(i).model().name());
            d.set("result", Json.MAPPER.valueToTree(done.get(i)));
        }
        Files.writeString(dir.resolve(REPORT_JSON), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(report),
                StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(REPORT_MD), markdown, StandardCharsets.UTF_8);
        List<Published> published = run.publishAll(List.of(new JobOutput(ArtifactKind.REPORT, "report", job.name(), dir)),
                job.inputs());
        run.progress(1, "compared " + n + " models");
        return new ComparisonJobResult(published.get(0).reference(), columns, rows, markdown);
    }

    /** What one model's evaluation sees: its share of the progress, its metrics under its name, the job's cancel. */
    private record ModelRun(JobRun job, String model, Progress share) implements JobRun {
        @Override
        public void progress(double fraction, String message) {
            share.progress(fraction, message);
        }

        @Override
        public void metrics(String stage, long step, Map<String, ? extends Number> values) {
            Map<String, Number> named = new LinkedHashMap<>();
            values.forEach((k, v) -> named.put(model + "/" + k, v));
            job.metrics(stage, step, named);
        }

        @Override
        public void log(String message) {
            job.log(model + ": " + message);
        }

        @Override
        public boolean isCancelled() {
            return job.isCancelled();
        }

        @Override
        public JsonNode checkpoint() {
            return null;
        }

        @Override
        public void saveCheckpoint(JsonNode state) {
            throw new UnsupportedOperationException("an evaluation inside a comparison saves no checkpoint");
        }

        @Override
        public Path workDir() {
            return job.workDir();
        }

        @Override
        public Path newStagingDir() {
            return job.newStagingDir();
        }

        @Override
        public List<Published> publishAll(List<JobOutput> outputs, List<JobInput> inputs) {
            throw new UnsupportedOperationException("an evaluation inside a comparison publishes nothing");
        }
    }
}
