package dev.amalgam.platform.jobtype;

import dev.amalgam.job.SpecReader;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.worker.JobContext;
import dev.amalgam.platform.worker.JobHandler;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Runs jobs of one {@link JobType} on the worker: reads the stored spec, validates it once more against the
 * artifacts it resolved to at submission (one may have been deleted meanwhile), then runs it.
 */
public final class JobTypeHandler<S, V extends JobType.Validated, R> implements JobHandler {

    private final JobType<S, V, R> type;
    private final ArtifactRepository artifacts;
    private final dev.amalgam.platform.credential.CredentialService credentials;

    /** Without registered credentials: a job that names one fails validation. */
    public JobTypeHandler(JobType<S, V, R> type, ArtifactRepository artifacts) {
        this(type, artifacts, null);
    }

    /** @param credentials the registered credentials a job may name, opened when it runs; null where there are none */
    public JobTypeHandler(JobType<S, V, R> type, ArtifactRepository artifacts,
                          dev.amalgam.platform.credential.CredentialService credentials) {
        this.type = type;
        this.artifacts = artifacts;
        this.credentials = credentials;
    }

    @Override
    public String type() {
        return type.name();
    }

    @Override
    public JsonNode handle(JobContext context) throws Exception {
        SpecReader reader = SpecReader.of(context.spec());
        JobOptions.read(reader);
        reader.allow(StoredInputs.ARTIFACTS_FIELD);
        S spec = type.read(reader);
        reader.finish();
        List<String> problems = reader.problems();
        StoredInputs inputs = new StoredInputs(artifacts, context.job(), credentials);
        V job = type.validate(spec, inputs, problems);
        if (!problems.isEmpty() || job == null) {
            throw new IllegalStateException(inputs.withArtifactNames("The job's spec no longer validates: "
                    + String.join("; ", problems)));
        }
        try {
            return Json.MAPPER.valueToTree(type.run(job, context));
        } catch (dev.amalgam.job.CancelledException e) {
            throw e;
        } catch (RuntimeException e) {
            // the job's error names the artifacts, not their paths on the server (a reader's bad-line message)
            String named = inputs.withArtifactNames(e.getMessage());
            if (named == null || named.equals(e.getMessage())) {
                throw e;
            }
            throw new IllegalStateException(named, e);
        }
    }
}
