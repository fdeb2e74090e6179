package dev.amalgam.platform.pipeline;

import dev.amalgam.job.Progress;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.jobtype.InvalidJobSpecException;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.LocalInputs;
import dev.amalgam.platform.jobtype.LocalJobs;
import dev.amalgam.platform.jobtype.Published;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Runs a pipeline in this process on local paths, what {@code amalgam pipeline} does: the same checks as a submission
 * (every problem before any work), then each step in DAG order through {@link LocalJobs}, as the platform's worker
 * runs it, with each reference replaced by the path of the output it names. Step {@code NAME} writes to
 * {@code OUT/NAME} (one output) or {@code OUT/NAME/KIND...} (several), and {@code OUT/NAME.json} records its result
 * once it ended; running the same command again skips the steps that have one and resumes the interrupted step from
 * its work directory ({@code WORK/NAME}).
 */
public final class LocalPipelines {

    private LocalPipelines() {
    }

    /**
     * @param progress the terminal of each step, by step name
     * @return {@code {"steps": {NAME: {"result": ..., "outputs": [{"kind", "path"}]}}}}
     * @throws InvalidJobSpecException with every problem of the pipeline, before any step runs
     */
    public static JsonNode run(PipelineSpec spec, List<JobType<?, ?, ?>> types, Path base, Path out, Path work,
                               Function<String, Progress> progress) throws Exception {
        StepChecks checks = new StepChecks(types);
        List<String> problems = PipelineSubmissions.check(spec, PipelineSubmissions.local(checks, new LocalInputs(base)));
        if (!problems.isEmpty()) {
            throw new InvalidJobSpecException(problems);
        }
        Files.createDirectories(out);
        ObjectNode summary = Json.object();
        ObjectNode steps = summary.putObject("steps");
        Map<String, JsonNode> done = new LinkedHashMap<>();
        for (PipelineSpec.Step step : spec.order()) {
            Path marker = out.resolve(step.name() + ".json");
            Progress terminal = progress.apply(step.name());
            if (Files.isRegularFile(marker)) {
                terminal.log("step " + step.name() + ": done in an earlier run (" + marker + ")");
                done.put(step.name(), Json.MAPPER.readTree(marker.toFile()));
                steps.set(step.name(), done.get(step.name()));
                continue;
            }
            Path stepOut = out.resolve(step.name());
            if (Files.exists(stepOut)) {
                throw new IllegalArgumentException(stepOut + " exists but the step's record " + marker
                        + " does not: remove " + stepOut + " to run the step again");
            }
            Map<StepReferences.Reference, String> values = new LinkedHashMap<>();
            for (StepReferences.Reference ref : StepReferences.find(step.spec(), "spec", new ArrayList<>())) {
                List<String> paths = new ArrayList<>();
                done.get(ref.step()).path("outputs").forEach(o -> {
                    if (o.path("kind").asString().equals(ref.kind().name().toLowerCase(Locale.ROOT))) {
                        paths.add(o.path("path").asString());
                    }
                });
                if (paths.size() != 1) {
                    throw new InvalidJobSpecException(List.of("steps." + step.name() + ": " + ref.text() + ": step '" + ref.step()
                            + "' wrote " + paths.size() + " " + ref.kind().name().toLowerCase(Locale.ROOT) + " output(s); exactly one is needed"));
                }
                values.put(ref, paths.get(0));
            }
            JsonNode resolved = StepReferences.resolve(step.spec(), values);
            JobType<?, ?, ?> type = checks.type(step.type());
            LocalJobs.Outcome outcome = LocalJobs.runForOutputs(type, resolved, base, stepOut, work.resolve(step.name()), terminal);
            ObjectNode record = Json.object();
            record.set("result", outcome.result());
            var outputs = record.putArray("outputs");
            for (Published p : outcome.outputs()) {
                outputs.addObject().put("kind", p.kind().name().toLowerCase(Locale.ROOT)).put("path", p.location().toAbsolutePath().toString());
            }
            Path partial = out.resolve("." + step.name() + ".json.partial");
            Files.writeString(partial, Json.toPrettyString(record));
            Files.move(partial, marker, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            done.put(step.name(), record);
            steps.set(step.name(), record);
        }
        if (Files.isDirectory(work)) {
            try (var left = Files.list(work)) {
                if (left.findAny().isEmpty()) {
                    Files.delete(work);
                }
            }
        }
        return summary;
    }
}
