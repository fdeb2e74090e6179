package dev.amalgam.platform.jobtype;

import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.credential.CredentialService;
import dev.amalgam.platform.job.Job;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * Resolves references on the worker: through the {@code artifacts} map stored with the spec at submission, to the
 * same artifacts, which must still be the tenant's and READY. Names the job publishes may be taken by its own
 * outputs (an earlier attempt that died after publishing), not by anything else.
 */
public final class StoredInputs implements JobInputs {

    /** The field of a stored spec that maps each reference to the artifact id it resolved to. */
    public static final String ARTIFACTS_FIELD = "artifacts";

    private final ArtifactRepository artifacts;
    private final Job job;
    private final CredentialService credentials;
    private final ArtifactPaths paths = new ArtifactPaths();

    StoredInputs(ArtifactRepository artifacts, Job job, CredentialService credentials) {
        this.artifacts = artifacts;
        this.job = job;
        this.credentials = credentials;
    }

    /** A credential by name in the job's tenant, as it is now (deleted meanwhile: a problem; replaced: the new one). */
    @Override
    public JobCredential credential(String field, String name, List<String> problems) {
        return Credentials.check(credentials, job.tenantId(), field, name, problems);
    }

    @Override
    public JobInput model(String field, String reference, List<String> problems) {
        return input(field, reference, ArtifactKind.MODEL, problems);
    }

    @Override
    public JobInput checkpoint(String field, String reference, List<String> problems) {
        return input(field, reference, ArtifactKind.CHECKPOINT, problems);
    }

    @Override
    public JobInput jsonlDataset(String field, String reference, List<String> problems) {
        return input(field, reference, ArtifactKind.DATASET, problems);
    }

    @Override
    public JobInput datasetDirectory(String field, String reference, List<String> problems) {
        Artifact a = artifact(field, reference, ArtifactKind.DATASET, problems);
        return a == null ? null : new JobInput(reference, a.id(), a.name(), a.kind(), a.dir());
    }

    @Override
    public JobInput dataset(String field, String reference, List<String> problems) {
        Artifact a = artifact(field, reference, ArtifactKind.DATASET, problems);
        return a == null ? null : new JobInput(reference, a.id(), a.name(), a.kind(), a.datasetLocation());
    }

    @Override
    public JobInput datasetFile(String field, String reference, List<String> problems) {
        return input(field, reference, ArtifactKind.DATASET, problems);
    }

    @Override
    public void requireNamesFree(String field, List<String> names, List<String> problems) {
        for (String name : names) {
            Optional<Artifact> taken = artifacts.findReadyByName(job.tenantId(), name);
            if (taken.isPresent() && !job.id().equals(taken.get().producingJobId())) {
                problems.add(field + ": an artifact named '" + name + "' already exists");
            }
        }
    }

    private JobInput input(String field, String reference, ArtifactKind kind, List<String> problems) {
        Artifact a = artifact(field, reference, kind, problems);
        if (a == null) {
            return null;
        }
        Path location = kind == ArtifactKind.DATASET ? a.singleFile() : a.dir();
        paths.add(location, a.dir(), a.name());
        return new JobInput(reference, a.id(), a.name(), a.kind(), location);
    }

    /** {@code text} with every resolved artifact's path on the server written as its quoted name ({@link ArtifactPaths}). */
    String withArtifactNames(String text) {
        return paths.named(text);
    }

    /** The artifact {@code reference} resolved to at submission, if it is still the tenant's and READY. */
    private Artifact artifact(String field, String reference, ArtifactKind kind, List<String> problems) {
        JsonNode id = job.spec().path(ARTIFACTS_FIELD).get(reference == null ? "" : reference);
        if (id == null || !id.isString()) {
            problems.add(field + ": '" + reference + "' was not resolved when the job was submitted");
            return null;
        }
        Optional<Artifact> found = artifacts.find(UUID.fromString(id.stringValue()))
                .filter(a -> a.tenantId().equals(job.tenantId()) && a.isReady() && a.kind() == kind);
        if (found.isEmpty()) {
            problems.add(field + ": artifact '" + reference + "' (" + id.stringValue() + ") is gone");
            return null;
        }
        return found.get();
    }
}
