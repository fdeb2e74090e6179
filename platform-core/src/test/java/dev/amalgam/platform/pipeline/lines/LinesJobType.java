package dev.amalgam.platform.pipeline.lines;

import dev.amalgam.job.SpecReader;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.Published;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * A test-only job type that chains: it reads JSONL datasets and publishes a DATASET holding their lines, each
 * prefixed with a tag, one line per step (so a pipeline of them is checkable by content). {@code fail} makes it
 * fail after its lines; {@code pauseMs} slows each line (so a test can cancel it, or kill its service).
 */
@Component
public final class LinesJobType implements JobType<LinesJobType.Spec, LinesJobType.Valid, LinesJobType.Result> {

    /** The spec. */
    public record Spec(List<String> datasets, String tag, String name, boolean fail, int pauseMs) {
    }

    /** A validated spec. */
    public record Valid(List<JobInput> datasets, String tag, String name, boolean fail, int pauseMs) implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            return datasets;
        }
    }

    /** The result. */
    public record Result(String dataset, int lines) {
    }

    @Override
    public String name() {
        return "lines";
    }

    @Override
    public int specVersion() {
        return 1;
    }

    @Override
    public String path() {
        return "/api/v1/lines";
    }

    @Override
    public String summary() {
        return "Tag the lines of datasets (a test-only job type)";
    }

    @Override
    public Class<Spec> specClass() {
        return Spec.class;
    }

    @Override
    public Class<Result> resultClass() {
        return Result.class;
    }

    @Override
    public Spec read(SpecReader json) {
        List<String> datasets = json.strings("datasets");
        if (datasets == null && !json.has("datasets")) {
            json.problem("datasets", "the datasets to read are required");
        }
        return new Spec(datasets, json.requiredString("tag", "the tag"), json.requiredString("name", "the name of the DATASET"),
                json.bool("fail", false), json.integer("pauseMs", 0, 10_000, 0));
    }

    @Override
    public Valid validate(Spec spec, JobInputs inputs, List<String> problems) {
        List<JobInput> datasets = new ArrayList<>();
        if (spec.datasets() != null) {
            for (int i = 0; i < spec.datasets().size(); i++) {
                JobInput d = inputs.jsonlDataset("datasets[" + i + "]", spec.datasets().get(i), problems);
                if (d != null) {
                    datasets.add(d);
                }
            }
        }
        if (spec.name() != null) {
            inputs.checkOutputNames("name", Map.of("the tagged lines", spec.name()), problems);
        }
        return problems.isEmpty() ? new Valid(datasets, spec.tag(), spec.name(), spec.fail(), spec.pauseMs()) : null;
    }

    @Override
    public Result run(Valid job, JobRun run) throws Exception {
        List<String> out = new ArrayList<>();
        for (JobInput d : job.datasets()) {
            for (String line : Files.readAllLines(d.location())) {
                run.throwIfCancelled();
                String text = dev.amalgam.modelio.Json.MAPPER.readTree(line).get("text").asString();
                out.add("{\"text\": \"" + job.tag() + ":" + text + "\"}");
                if (job.pauseMs() > 0) {
                    Thread.sleep(job.pauseMs());
                }
                run.progress(0.5, "line " + out.size());
            }
        }
        if (job.fail()) {
            throw new IllegalStateException("asked to fail");
        }
        Path dir = run.newStagingDir();
        Files.write(dir.resolve("lines.jsonl"), out);
        Published p = run.publishAll(List.of(new JobOutput(ArtifactKind.DATASET, "dataset", job.name(), dir)), job.inputs()).get(0);
        return new Result(p.reference(), out.size());
    }
}
