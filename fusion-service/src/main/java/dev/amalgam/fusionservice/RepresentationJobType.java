package dev.amalgam.fusionservice;

import dev.amalgam.fusion.fusechat.Representations;
import dev.amalgam.fusion.fusechat.repr.ModelRepresentations;
import dev.amalgam.fusion.fusechat.repr.RepresentationImport;
import dev.amalgam.fusion.fusechat.repr.RepresentationSettings;
import dev.amalgam.fusion.fusechat.repr.RepresentationSummary;
import dev.amalgam.fusion.fusechat.repr.TokenizerVocabulary;
import dev.amalgam.job.SpecReader;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.Published;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * The representation job: step 1 of FuseChat for one model. From a chat corpus, the engine runs the model
 * ({@link ModelRepresentations}); from an import, representations computed elsewhere are converted
 * ({@link RepresentationImport}). Either way the output is one representation DATASET (meta.json,
 * representations.jsonl, topk.bin), published with lineage to the model, the corpus or import, and the template
 * model. Progress after every batch (engine) or sample (import); a cancelled or stopped job stops between
 * batches and starts over from the first sample when it runs again.
 */
@Component
public final class RepresentationJobType
        implements JobType<RepresentationJobSpec, RepresentationJobType.ValidRepresentation, RepresentationJobResult> {

    /**
     * A validated representation job: exactly one of {@code corpus} and {@code imported} is set;
     * {@code templateModel} is null for the model's own template (and always with an import).
     */
    public record ValidRepresentation(JobInput model, JobInput corpus, JobInput imported, JobInput templateModel,
                                      RepresentationSettings settings, String device, String name)
            implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            List<JobInput> all = new ArrayList<>();
            all.add(model);
            all.add(imports() ? imported : corpus);
            if (templateModel != null) {
                all.add(templateModel);
            }
            return all;
        }

        boolean imports() {
            return imported != null;
        }
    }

    @Override
    public String name() {
        return "represent";
    }

    @Override
    public int specVersion() {
        return 1;
    }

    @Override
    public String path() {
        return "/api/v1/representations";
    }

    @Override
    public String summary() {
        return "Queue a FuseChat representation job: a model's top-k logits and metric_ce on a chat corpus "
                + "(or imported from elsewhere), as a DATASET";
    }

    @Override
    public Class<RepresentationJobSpec> specClass() {
        return RepresentationJobSpec.class;
    }

    @Override
    public Class<RepresentationJobResult> resultClass() {
        return RepresentationJobResult.class;
    }

    @Override
    public RepresentationJobSpec read(SpecReader json) {
        String model = json.string("model");
        String corpus = json.string("corpus");
        String imported = json.string("import");
        String template = json.string("chatTemplateFrom");
        Long topK = json.integer("topK", 1, RepresentationSettings.MAX_TOP_K);
        Long maxLength = json.integer("maxLength", 2, RepresentationJobSpec.MAX_MAX_LENGTH);
        Long batchSize = json.integer("batchSize", 1, RepresentationSettings.MAX_BATCH_SIZE);
        String device = json.string("device");
        if (device != null && !device.equals("auto")) {
            try {
                EngineOptions.parse(device);
            } catch (IllegalArgumentException e) {
                json.problem("device", "must be auto, cpu, gpu or gpu:N (optionally /fp32 or /fp16): " + e.getMessage());
                device = null;
            }
        }
        String name = json.requiredString("name", "the name of the representation DATASET artifact");
        return new RepresentationJobSpec(model, corpus, imported, template, toInt(topK), toInt(maxLength),
                toInt(batchSize), device, name);
    }

    @Override
    public ValidRepresentation validate(RepresentationJobSpec spec, JobInputs inputs, List<String> problems) {
        JobInput model = inputs.model("model", spec.model(), problems);
        boolean imports = spec.importData() != null;
        if (imports == (spec.corpus() != null)) {
            problems.add("corpus: give exactly one of 'corpus' (a chat corpus the engine runs the model over) or "
                    + "'import' (representations computed elsewhere)");
        }
        JobInput corpus = spec.corpus() == null ? null : inputs.jsonlDataset("corpus", spec.corpus(), problems);
        JobInput imported = spec.importData() == null ? null : inputs.jsonlDataset("import", spec.importData(), problems);
        JobInput template = null;
        if (imports) {
            // the engine does not run: its settings would be silently ignored
            Map<String, Object> engineOnly = new LinkedHashMap<>();
            engineOnly.put("chatTemplateFrom", spec.chatTemplateFrom());
            engineOnly.put("maxLength", spec.maxLength());
            engineOnly.put("batchSize", spec.batchSize());
            engineOnly.put("device", spec.device());
            engineOnly.forEach((field, value) -> {
                if (value != null) {
                    problems.add(field + ": only used with 'corpus' (an import is not run on the engine)");
                }
            });
        } else if (spec.chatTemplateFrom() != null) {
            template = inputs.model("chatTemplateFrom", spec.chatTemplateFrom(), problems);
        }
        RepresentationSettings defaults = RepresentationSettings.defaults();
        RepresentationSettings settings = new RepresentationSettings(
                spec.topK() == null ? Representations.DEFAULT_TOP_K : spec.topK(),
                spec.maxLength() == null ? defaults.maxLength() : spec.maxLength(),
                spec.batchSize() == null ? defaults.batchSize() : spec.batchSize());
        if (model != null && imports) {
            try {
                TokenizerVocabulary.read(model.location());
            } catch (RuntimeException e) {
                problems.add("model: " + named(e.getMessage(), model));
            }
        } else if (model != null && spec.corpus() != null && (spec.chatTemplateFrom() == null || template != null)) {
            // lengths, top-k and the template are checked from config and tokenizer files alone
            JobInput from = template == null ? model : template;
            for (String p : ModelRepresentations.validate(model.location(), from.location(), settings,
                    template == null ? "model" : "chatTemplateFrom")) {
                problems.add(named(named(p, model), from));
            }
        }
        if (spec.name() != null) {
            inputs.checkOutputNames("name", Map.of("the representation dataset", spec.name()), problems);
        }
        return problems.isEmpty()
                ? new ValidRepresentation(model, corpus, imported, template, settings,
                        spec.device() == null ? "auto" : spec.device(), spec.name())
                : null;
    }

    @Override
    public RepresentationJobResult run(ValidRepresentation job, JobRun run) {
        Path out = run.newStagingDir();
        RepresentationSummary summary;
        JobInput data = job.imports() ? job.imported() : job.corpus();
        try {
            if (job.imports()) {
                run.progress(0, "importing representations of " + job.model().name());
                summary = RepresentationImport.convert(data.location(), job.model().location(), job.model().name(),
                        job.settings().topK(), out, run);
            } else {
                JobInput from = job.templateModel() == null ? job.model() : job.templateModel();
                run.progress(0, "representing " + data.name() + " with " + job.model().name());
                summary = ModelRepresentations.run(job.model().location(), job.model().name(), from.location(),
                        from.name(), data.location(), out, job.settings(), engine(job.device()), run);
            }
        } catch (IllegalArgumentException e) {
            // a bad line of the dataset: named by its field and artifact, never by the server's path
            String field = job.imports() ? "import" : "corpus";
            throw new IllegalArgumentException(field + ": " + named(named(e.getMessage(), data), job.model()), e);
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("samples", (double) summary.samples());
        metrics.put("positions", (double) summary.positions());
        metrics.put("unsupervisedSamples", (double) summary.unsupervisedSamples());
        if (!Double.isNaN(summary.meanMetricCe())) {
            metrics.put("meanMetricCe", summary.meanMetricCe());
        }
        run.metrics(null, 0, metrics);
        List<Published> published = run.publishAll(
                List.of(new JobOutput(ArtifactKind.DATASET, "representations", job.name(), out)), job.inputs());
        return new RepresentationJobResult(published.get(0).reference(), job.imports() ? "import" : "engine",
                summary.samples(), summary.positions(), summary.topK(), summary.vocabSize(),
                summary.unsupervisedSamples(), Double.isNaN(summary.meanMetricCe()) ? null : summary.meanMetricCe());
    }

    /** The engine a device setting names: {@code auto} is the first GPU in FP16 when there is one, else the CPU. */
    static EngineOptions engine(String device) {
        if (device.equals("auto")) {
            return DjlRuntime.gpuCount() > 0 ? EngineOptions.gpuFp16(0) : EngineOptions.cpu();
        }
        return EngineOptions.parse(device);
    }

    /** {@code message} with the input's location (a server path on the platform) replaced by its name. */
    private static String named(String message, JobInput input) {
        if (message == null) {
            return "failed";
        }
        return message.replace(input.location().toAbsolutePath().toString(), "'" + input.name() + "'")
                .replace(input.location().toString(), "'" + input.name() + "'");
    }

    private static Integer toInt(Long value) {
        return value == null ? null : value.intValue();
    }
}
