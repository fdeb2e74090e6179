package dev.amalgam.platform.pipeline;

import dev.amalgam.job.SpecReader;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobOptions;
import dev.amalgam.platform.jobtype.JobType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks the steps of a pipeline whose types are served here, each by its own job type, before anything runs: the
 * type's {@link JobType#read} and {@link JobType#validate}, as a submission of that job would, against the caller's
 * artifacts. A reference to an earlier step's output cannot be resolved yet (the artifact does not exist): it is
 * checked for its kind (a {@code model} where the type reads a model) and the checks of the type that need its
 * files (architectures, tensor shapes) run when the step is submitted. Problems are named by the step:
 * {@code steps[1].spec.model: ...}.
 */
public final class StepChecks {

    /**
     * Every problem found, the artifact names each checked step will publish (for clashes between steps), and the
     * artifacts the steps' literal references resolved to (the pipeline's inputs, protected from deletion while it
     * lives).
     */
    public record Result(List<String> problems, Map<String, List<String>> outputNames, List<java.util.UUID> inputs) {
    }

    private final Map<String, JobType<?, ?, ?>> types = new LinkedHashMap<>();

    public StepChecks(List<JobType<?, ?, ?>> types) {
        types.forEach(t -> this.types.put(t.name(), t));
    }

    /** The job types served here. */
    public List<String> types() {
        return List.copyOf(types.keySet());
    }

    public JobType<?, ?, ?> type(String name) {
        return types.get(name);
    }

    /**
     * Checks every step of {@code spec} whose type is served here.
     *
     * @param inputs resolves literal references (a tenant's artifacts, or local paths in the CLI)
     */
    public Result check(PipelineSpec spec, JobInputs inputs) {
        List<String> problems = new ArrayList<>();
        Map<String, List<String>> names = new LinkedHashMap<>();
        java.util.Set<java.util.UUID> resolved = new java.util.LinkedHashSet<>();
        for (int i = 0; i < spec.steps().size(); i++) {
            PipelineSpec.Step step = spec.steps().get(i);
            JobType<?, ?, ?> type = types.get(step.type());
            if (type == null) {
                continue;
            }
            List<String> stepNames = new ArrayList<>();
            List<String> found = checkStep(type, step, inputs, stepNames, resolved);
            String prefix = "steps[" + i + "].spec";
            found.forEach(p -> problems.add(prefixed(prefix, p)));
            names.put(step.name(), stepNames);
        }
        return new Result(problems, names, List.copyOf(resolved));
    }

    /** {@code body: x} becomes {@code steps[i].spec: x}; {@code model: x} becomes {@code steps[i].spec.model: x}. */
    static String prefixed(String prefix, String problem) {
        if (problem.startsWith("body: ")) {
            return prefix + ": " + problem.substring("body: ".length());
        }
        return prefix + "." + problem;
    }

    private static <S, V extends JobType.Validated, R> List<String> checkStep(JobType<S, V, R> type, PipelineSpec.Step step,
                                                                            JobInputs inputs, List<String> outputNames,
                                                                            java.util.Set<java.util.UUID> resolved) {
        SpecReader reader = SpecReader.of(step.spec());
        JobOptions.read(reader);
        S read = type.read(reader);
        reader.finish();
        List<String> problems = reader.problems();
        PendingInputs pending = new PendingInputs(inputs, outputNames, resolved);
        type.validate(read, pending, problems);
        problems.removeIf(p -> p.startsWith(PendingInputs.MARKER));
        return problems;
    }

    /**
     * Inputs of a pipeline step at submission: literal references go to the real inputs; a reference to another
     * step's output is checked for its kind and then reported as a marker problem (removed afterwards), so that the
     * type skips the checks that need the input, as it skips them for any input it could not resolve.
     */
    static final class PendingInputs implements JobInputs {

        static final String MARKER = "\u0000pending step output: ";

        private final JobInputs inputs;
        private final List<String> outputNames;
        private final java.util.Set<java.util.UUID> resolved;

        PendingInputs(JobInputs inputs, List<String> outputNames, java.util.Set<java.util.UUID> resolved) {
            this.inputs = inputs;
            this.outputNames = outputNames;
            this.resolved = resolved;
        }

        @Override
        public JobInput model(String field, String reference, List<String> problems) {
            return resolve(field, reference, ArtifactKind.MODEL, problems, JobInputs::model);
        }

        @Override
        public JobInput checkpoint(String field, String reference, List<String> problems) {
            return resolve(field, reference, ArtifactKind.CHECKPOINT, problems, JobInputs::checkpoint);
        }

        @Override
        public JobInput jsonlDataset(String field, String reference, List<String> problems) {
            return resolve(field, reference, ArtifactKind.DATASET, problems, JobInputs::jsonlDataset);
        }

        @Override
        public JobInput datasetDirectory(String field, String reference, List<String> problems) {
            return resolve(field, reference, ArtifactKind.DATASET, problems, JobInputs::datasetDirectory);
        }

        @Override
        public JobInput datasetFile(String field, String reference, List<String> problems) {
            return resolve(field, reference, ArtifactKind.DATASET, problems, JobInputs::datasetFile);
        }

        @Override
        public JobInput dataset(String field, String reference, List<String> problems) {
            return resolve(field, reference, ArtifactKind.DATASET, problems, JobInputs::dataset);
        }

        @Override
        public void requireNamesFree(String field, List<String> names, List<String> problems) {
            outputNames.addAll(names);
            inputs.requireNamesFree(field, names, problems);
        }

        /** One of the {@link JobInputs} methods, called on the real inputs for a literal reference. */
        @FunctionalInterface
        interface Lookup {
            JobInput find(JobInputs inputs, String field, String reference, List<String> problems);
        }

        private JobInput resolve(String field, String reference, ArtifactKind kind, List<String> problems, Lookup literal) {
            List<StepReferences.Reference> refs = reference == null ? List.of() : StepReferences.in(reference);
            if (refs.isEmpty()) {
                JobInput input = literal.find(inputs, field, reference, problems);
                if (input != null && input.artifactId() != null) {
                    resolved.add(input.artifactId());
                }
                return input;
            }
            for (StepReferences.Reference r : refs) {
                if (r.kind() != kind) {
                    problems.add(field + ": " + r.text() + " is step '" + r.step() + "''s " + r.kind().name().toLowerCase(Locale.ROOT)
                            + " output; a " + kind.name().toLowerCase(Locale.ROOT) + " is needed here");
                }
            }
            problems.add(MARKER + field);
            return null;
        }
    }
}
