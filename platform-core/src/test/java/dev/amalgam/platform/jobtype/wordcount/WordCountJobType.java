package dev.amalgam.platform.jobtype.wordcount;

import dev.amalgam.job.SpecReader;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.Published;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * A job type that exists only in tests, to show what adding one takes: this package (its spec record and this
 * class) and the {@code @Component} that registers it. It counts the words of a dataset's texts, one line per step,
 * checkpointing the count, and publishes the count as a REPORT.
 */
@Component
public final class WordCountJobType implements JobType<WordCountSpec, WordCountJobType.ValidWordCount, WordCountJobType.WordCount> {

    /** A validated word count. */
    public record ValidWordCount(JobInput dataset, String name, int minLength) implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            return List.of(dataset);
        }
    }

    /** The job's result: the count, the report it was published as, and the line a resumed run started at. */
    public record WordCount(long words, String report, int resumedAt) {
    }

    @Override
    public String name() {
        return "word-count";
    }

    @Override
    public int specVersion() {
        return 1;
    }

    @Override
    public String path() {
        return "/api/v1/word-counts";
    }

    @Override
    public String summary() {
        return "Count the words of a dataset (a test-only job type)";
    }

    @Override
    public Class<WordCountSpec> specClass() {
        return WordCountSpec.class;
    }

    @Override
    public Class<WordCount> resultClass() {
        return WordCount.class;
    }

    @Override
    public WordCountSpec read(SpecReader json) {
        return new WordCountSpec(json.string("dataset"), json.requiredString("name", "the name of the REPORT"),
                json.integer("minLength", 1, 100, 1));
    }

    @Override
    public ValidWordCount validate(WordCountSpec spec, JobInputs inputs, List<String> problems) {
        JobInput dataset = inputs.jsonlDataset("dataset", spec.dataset(), problems);
        if (spec.name() != null) {
            inputs.checkOutputNames("name", Map.of("the count", spec.name()), problems);
        }
        return problems.isEmpty() ? new ValidWordCount(dataset, spec.name(), spec.minLength()) : null;
    }

    @Override
    public WordCount run(ValidWordCount job, JobRun run) throws Exception {
        List<String> lines = Files.readAllLines(job.dataset().location());
        JsonNode saved = run.checkpoint();
        int from = saved == null ? 0 : saved.get("lines").asInt();
        long words = saved == null ? 0 : saved.get("words").asLong();
        for (int i = from; i < lines.size(); i++) {
            run.throwIfCancelled();
            for (String word : Json.MAPPER.readTree(lines.get(i)).get("text").asString().split("\\s+")) {
                if (word.length() >= job.minLength()) {
                    words++;
                }
            }
            run.saveCheckpoint(Json.MAPPER.valueToTree(Map.of("lines", i + 1, "words", words)));
            run.progress((i + 1) / (double) lines.size(), "counted line " + (i + 1) + " of " + lines.size());
        }
        Path report = run.newStagingDir();
        Files.writeString(report.resolve("count.json"), "{\"words\": " + words + "}");
        Published published = run.publishAll(List.of(new JobOutput(ArtifactKind.REPORT, "report", job.name(), report)),
                job.inputs()).get(0);
        return new WordCount(words, published.reference(), from);
    }
}
