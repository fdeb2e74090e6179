package dev.amalgam.pruningservice;

import dev.amalgam.job.Progress;
import dev.amalgam.job.SpecReader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.judge.Judging;
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
 * several models, one after another, and/or their finished judgments (judge jobs' judgments DATASETs, scored as the
 * judge job scores them), tabled side by side in a REPORT artifact ({@code report.json}, {@code report.md}) in the
 * layout of the papers' tables. Each finished model's numbers are checkpointed, so a job taken over after a crash
 * evaluates only the models still missing.
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

    /**
     * A validated comparison: the models in row order, one validated evaluation per model (none when the comparison
     * only tables judgments), and the judgments.
     */
    public record ValidComparison(List<JobInput> models, List<EvaluationJobType.ValidEvaluation> evaluations,
                                  List<ValidJudgment> judgments, String name) implements JobType.Validated {
        public ValidComparison {
            models = List.copyOf(models);
            evaluations = List.copyOf(evaluations);
            judgments = List.copyOf(judgments);
        }

        @Override
        public List<JobInput> inputs() {
            Set<JobInput> all = new LinkedHashSet<>(models);
            evaluations.forEach(e -> all.addAll(e.inputs()));
            judgments.forEach(j -> all.add(j.dataset()));
            return List.copyOf(all);
        }
    }

    /** A judgments DATASET of the model in row {@code row}, its records read and checked at validation. */
    public record ValidJudgment(int row, Judging.Benchmark benchmark, JobInput dataset, List<JsonNode> records) {
        public ValidJudgment {
            records = List.copyOf(records);
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
        List<ComparisonJobSpec.Judgment> judgments = null;
        List<SpecReader> judgmentReaders = json.objects("judgments");
        if (judgmentReaders != null) {
            if (judgmentReaders.size() > ComparisonJobSpec.MAX_JUDGMENTS) {
                json.problem("judgments", "at most " + ComparisonJobSpec.MAX_JUDGMENTS + " judgments, got "
                        + judgmentReaders.size());
            }
            judgments = new ArrayList<>();
            for (SpecReader j : judgmentReaders) {
                String model = j.requiredString("model", "the model judged, one of models");
                String benchmark = j.oneOf("benchmark", Judging.Benchmark.ids(), null);
                if (benchmark == null && !j.has("benchmark")) {
                    j.problem("benchmark", "required (one of " + String.join(", ", Judging.Benchmark.ids()) + ")");
                }
                String dataset = j.requiredString("dataset", "the judge job's judgments DATASET");
                judgments.add(new ComparisonJobSpec.Judgment(model, benchmark, dataset));
            }
        }
        // with judgments, the evaluation is optional: a comparison may table judgments only
        EvaluationJobSpec e = EvaluationJobType.read(json, null, judgments == null || judgments.isEmpty());
        String name = json.requiredString("name", "the name of the REPORT artifact");
        return new ComparisonJobSpec(models, e.dataset(), e.seqLen(), e.tasks(), e.batchSize(), judgments, name);
    }

    @Override
    public ValidComparison validate(ComparisonJobSpec spec, JobInputs inputs, List<String> problems) {
        List<String> models = spec.models() == null ? List.of() : spec.models();
        List<JobInput> modelInputs = new ArrayList<>();
        List<EvaluationJobType.ValidEvaluation> evaluations = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            if (!spec.evaluates()) {
                modelInputs.add(inputs.model("models[" + i + "]", models.get(i), problems));
                continue;
            }
            // the first model's evaluation checks the datasets and tasks; the others only their own model
            EvaluationJobSpec forThis = new EvaluationJobSpec(models.get(i), spec.dataset(), spec.seqLen(),
                    i == 0 ? spec.tasks() : null, spec.batchSize());
            List<String> own = new ArrayList<>();
            EvaluationJobType.ValidEvaluation v = evaluation.validate(forThis, inputs, own);
            for (String p : own) {
                if (p.startsWith("model: ") || p.startsWith("seqLen: ")) {
                    problems.add("models[" + i + "]" + p.substring(p.indexOf(':')));
                } else if (i == 0) {
                    problems.add(p);
                }
            }
            modelInputs.add(v == null ? null : v.model());
            if (v != null) {
                evaluations.add(v);
            }
        }
        List<ValidJudgment> judgments = validateJudgments(spec, inputs, problems);
        if (spec.name() != null) {
            inputs.checkOutputNames("name", Map.of("the report", spec.name()), problems);
        }
        if (!problems.isEmpty() || modelInputs.contains(null) || modelInputs.size() != models.size()
                || (spec.evaluates() && evaluations.size() != models.size())) {
            return null;
        }
        if (!spec.evaluates()) {
            return new ValidComparison(modelInputs, List.of(), judgments, spec.name());
        }
        // the first evaluation holds the tasks' documents; every model is scored on them
        EvaluationJobType.ValidEvaluation first = evaluations.get(0);
        List<EvaluationJobType.ValidEvaluation> all = new ArrayList<>();
        for (EvaluationJobType.ValidEvaluation v : evaluations) {
            all.add(new EvaluationJobType.ValidEvaluation(v.model(), first.dataset(), first.seqLen(), first.tasks(),
                    first.batchSize()));
        }
        return new ValidComparison(modelInputs, all, judgments, spec.name());
    }

    /**
     * Each judgment: its model one of those compared, its DATASET a judge job's judgments of the benchmark it names,
     * and no second judgment for the same model and column group.
     */
    private static List<ValidJudgment> validateJudgments(ComparisonJobSpec spec, JobInputs inputs, List<String> problems) {
        List<ValidJudgment> valid = new ArrayList<>();
        List<ComparisonJobSpec.Judgment> judgments = spec.judgments() == null ? List.of() : spec.judgments();
        List<String> models = spec.models() == null ? List.of() : spec.models();
        Set<String> seen = new HashSet<>();
        for (int j = 0; j < judgments.size(); j++) {
            ComparisonJobSpec.Judgment judgment = judgments.get(j);
            String field = "judgments[" + j + "]";
            Integer row = judgment.model() == null ? null : row(judgment.model(), models, inputs);
            if (judgment.model() != null && row == null) {
                problems.add(field + ".model: '" + judgment.model() + "' is not one of the models compared");
            }
            Judging.Benchmark declared = judgment.benchmark() == null ? null : Judging.Benchmark.of(judgment.benchmark());
            JobInput data = judgment.dataset() == null ? null
                    : inputs.jsonlDataset(field + ".dataset", judgment.dataset(), problems);
            JudgmentRecords.Read read = null;
            if (data != null) {
                try {
                    read = JudgmentRecords.read(data.location());
                } catch (IllegalArgumentException e) {
                    problems.add(field + ".dataset: '" + judgment.dataset() + "' is not a judge job's judgments: "
                            + data.location().getFileName() + " " + e.getMessage());
                }
            }
            if (read != null && declared != null && read.benchmark() != declared) {
                problems.add(field + ".benchmark: '" + judgment.dataset() + "' holds " + read.benchmark().id()
                        + " judgments, not " + declared.id());
            }
            if (row != null && declared != null
                    && !seen.add(row + "/" + ComparisonTable.judgeColumn(declared))) {
                problems.add(field + ": '" + judgment.model() + "' has a second " + ComparisonTable.judgeColumn(declared)
                        + " judgment (one per model and benchmark)");
            }
            if (row != null && read != null && read.benchmark() == declared) {
                valid.add(new ValidJudgment(row, read.benchmark(), data, read.records()));
            }
        }
        return valid;
    }

    /** The row of the model a judgment names: as written in models, or another reference to the same artifact. */
    private static Integer row(String model, List<String> models, JobInputs inputs) {
        int at = models.indexOf(model);
        if (at >= 0) {
            return at;
        }
        JobInput named = inputs.model("model", model, new ArrayList<>());
        if (named == null) {
            return null;
        }
        for (int i = 0; i < models.size(); i++) {
            JobInput m = inputs.model("model", models.get(i), new ArrayList<>());
            if (m != null && (named.artifactId() != null ? named.artifactId().equals(m.artifactId())
                    : named.location().equals(m.location()))) {
                return i;
            }
        }
        return null;
    }

    @Override
    public ComparisonJobResult run(ValidComparison job, JobRun run) throws Exception {
        int n = job.models().size();
        List<EvaluationJobResult> done = new ArrayList<>(); // the checkpointed models' numbers, in row order
        if (!job.evaluations().isEmpty()) {
            JsonNode saved = run.checkpoint();
            if (saved != null && saved.has("done")) {
                for (JsonNode r : saved.get("done")) {
                    done.add(Json.MAPPER.treeToValue(r, EvaluationJobResult.class));
                }
                run.log("resuming after " + done.size() + " of " + n + " models");
            }
            for (int i = done.size(); i < n; i++) {
                EvaluationJobType.ValidEvaluation e = job.evaluations().get(i);
                EvaluationJobResult r = evaluation.evaluate(e, new ModelProgress(run, e.model().name(), i, n));
                done.add(r);
                ObjectNode state = Json.object();
                ArrayNode list = state.putArray("done");
                done.forEach(d -> list.add(Json.MAPPER.valueToTree(d)));
                run.saveCheckpoint(state);
            }
        }
        // the judgments are scored as the judge job scores them (the judge model is not in the file)
        List<ComparisonJobResult.Judgment> judged = new ArrayList<>();
        for (ValidJudgment j : job.judgments()) {
            JudgeJobResult r = JudgeJobType.result(j.benchmark(), null, j.dataset().name(), j.records());
            judged.add(new ComparisonJobResult.Judgment(job.models().get(j.row()).name(), j.benchmark().id(),
                    j.dataset().name(), r.judged(), r.unparsed(), r.mtBench(), r.alpacaEval(), r.arenaHard()));
        }
        List<String> columns = job.evaluations().isEmpty() ? List.of()
                : job.evaluations().get(0).tasks().stream().map(EvaluationJobType.ValidTask::name).toList();
        List<String> judgeColumns = ComparisonTable.JUDGE_COLUMNS.stream()
                .filter(c -> job.judgments().stream().anyMatch(j -> ComparisonTable.judgeColumn(j.benchmark()).equals(c)))
                .toList();
        List<ComparisonJobResult.Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int row = i;
            List<ComparisonJobResult.Judgment> own = new ArrayList<>();
            for (int k = 0; k < judged.size(); k++) {
                if (job.judgments().get(k).row() == row) {
                    own.add(judged.get(k));
                }
            }
            rows.add(ComparisonTable.row(job.models().get(i).name(), done.isEmpty() ? null : done.get(i), own));
        }
        String markdown = ComparisonTable.markdown(columns, judgeColumns, rows);
        Path dir = run.newStagingDir();
        ObjectNode report = Json.object();
        report.put("kind", "comparison");
        report.set("columns", Json.MAPPER.valueToTree(columns));
        report.set("judgeColumns", Json.MAPPER.valueToTree(judgeColumns));
        report.set("rows", Json.MAPPER.valueToTree(rows));
        ArrayNode details = report.putArray("evaluations");
        for (int i = 0; i < done.size(); i++) {
            ObjectNode d = details.addObject();
            d.put("model", job.models().get(i).name());
            d.set("result", Json.MAPPER.valueToTree(done.get(i)));
        }
        report.set("judgments", Json.MAPPER.valueToTree(judged));
        Files.writeString(dir.resolve(REPORT_JSON), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(report),
                StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(REPORT_MD), markdown, StandardCharsets.UTF_8);
        List<Published> published = run.publishAll(List.of(new JobOutput(ArtifactKind.REPORT, "report", job.name(), dir)),
                job.inputs());
        run.progress(1, "compared " + n + " models");
        return new ComparisonJobResult(published.get(0).reference(), columns, judgeColumns, rows, judged, markdown);
    }

    /**
     * What one model's evaluation reports to: its share of the job's progress, its metrics under its name, and the
     * job's cancellation. An evaluation only reports, so this is a {@link Progress}, not a whole {@link JobRun}: it
     * cannot save a checkpoint or publish (the comparison does both).
     */
    private record ModelProgress(JobRun job, String model, int index, int models) implements Progress {
        @Override
        public void progress(double fraction, String message) {
            job.progress((index + fraction) / models, model + ": " + message);
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
    }
}
