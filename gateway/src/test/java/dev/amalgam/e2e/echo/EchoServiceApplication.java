package dev.amalgam.e2e.echo;

import dev.amalgam.job.SpecReader;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.Published;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A test-only service with the shape of a real one: POST /api/v1/echoes validates a spec and queues an
 * "echo" job, which repeats a message into a REPORT artifact, reporting progress per step.
 */
@SpringBootApplication
public class EchoServiceApplication {

    /** The echo job's spec. */
    public record EchoSpec(String message, Integer repeat, Long delayMs, String output, String input) {
    }

    /** A validated echo job. */
    public record ValidEcho(EchoSpec spec, JobInput input) implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            return input == null ? List.of() : List.of(input);
        }
    }

    /** The echo job's result. */
    public record Echoed(String artifact, int lines) {
    }

    @Bean
    JobType<EchoSpec, ValidEcho, Echoed> echoJobType() {
        return new JobType<>() {
            @Override
            public String name() {
                return "echo";
            }

            @Override
            public int specVersion() {
                return 1;
            }

            @Override
            public String path() {
                return "/api/v1/echoes";
            }

            @Override
            public String summary() {
                return "Queue an echo job (tests only)";
            }

            @Override
            public Class<EchoSpec> specClass() {
                return EchoSpec.class;
            }

            @Override
            public Class<Echoed> resultClass() {
                return Echoed.class;
            }

            @Override
            public EchoSpec read(SpecReader json) {
                return new EchoSpec(json.requiredString("message", "the message"),
                        json.integer("repeat", 1, 100, 0), json.longInteger("delayMs", 0),
                        json.requiredString("output", "the name of the report artifact"), json.string("input"));
            }

            @Override
            public ValidEcho validate(EchoSpec spec, JobInputs inputs, List<String> problems) {
                if (spec.repeat() == 0 && problems.stream().noneMatch(p -> p.startsWith("repeat:"))) {
                    problems.add("repeat: must be between 1 and 100");
                }
                JobInput input = spec.input() == null ? null : inputs.jsonlDataset("input", spec.input(), problems);
                return problems.isEmpty() ? new ValidEcho(spec, input) : null;
            }

            @Override
            public Echoed run(ValidEcho job, JobRun run) throws Exception {
                StringBuilder out = new StringBuilder();
                int repeat = job.spec().repeat();
                for (int i = 0; i < repeat; i++) {
                    run.throwIfCancelled();
                    out.append(job.spec().message()).append('\n');
                    run.metrics(null, i, Map.of("length", out.length()));
                    run.progress((i + 1) / (double) repeat, "step " + (i + 1) + " of " + repeat);
                    Thread.sleep(job.spec().delayMs());
                }
                var dir = run.newStagingDir();
                Files.writeString(dir.resolve("echo.txt"), out.toString());
                Published a = run.publishAll(List.of(new JobOutput(ArtifactKind.REPORT, "report", job.spec().output(), dir)),
                        job.inputs()).get(0);
                return new Echoed(a.reference(), repeat);
            }
        };
    }
}
