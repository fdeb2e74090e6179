package dev.amalgam.platform.jobtype;

import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.credential.CredentialService;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Resolves references at submission: an id or a name of the caller's READY artifacts. Every resolution is recorded,
 * and the stored spec carries them ({@link #resolved()}), so the job later reads exactly the artifacts checked now.
 */
public final class TenantInputs implements JobInputs {

    private final ArtifactService artifacts;
    private final UUID tenant;
    private final CredentialService credentials;
    private final Map<String, UUID> resolved = new LinkedHashMap<>();
    private final ArtifactPaths paths = new ArtifactPaths();

    /** Without registered credentials: a spec that names one gets a problem. */
    public TenantInputs(ArtifactService artifacts, UUID tenant) {
        this(artifacts, tenant, null);
    }

    /** @param credentials the tenant's registered credentials, or null where there are none */
    public TenantInputs(ArtifactService artifacts, UUID tenant, CredentialService credentials) {
        this.artifacts = artifacts;
        this.tenant = tenant;
        this.credentials = credentials;
    }

    @Override
    public JobInput model(String field, String reference, List<String> problems) {
        return input(artifacts.resolve(tenant, reference, ArtifactKind.MODEL, field, problems), reference, false);
    }

    @Override
    public JobInput checkpoint(String field, String reference, List<String> problems) {
        return input(artifacts.resolve(tenant, reference, ArtifactKind.CHECKPOINT, field, problems), reference, false);
    }

    @Override
    public JobInput jsonlDataset(String field, String reference, List<String> problems) {
        return input(artifacts.resolveJsonl(tenant, reference, field, problems), reference, true);
    }

    @Override
    public JobInput datasetDirectory(String field, String reference, List<String> problems) {
        return input(artifacts.resolve(tenant, reference, ArtifactKind.DATASET, field, problems), reference, false);
    }

    @Override
    public JobInput dataset(String field, String reference, List<String> problems) {
        Artifact a = artifacts.resolve(tenant, reference, ArtifactKind.DATASET, field, problems);
        if (a == null) {
            return null;
        }
        resolved.put(reference, a.id());
        return new JobInput(reference, a.id(), a.name(), a.kind(), a.datasetLocation());
    }

    @Override
    public JobInput datasetFile(String field, String reference, List<String> problems) {
        return input(artifacts.resolveSingleFile(tenant, reference, field, problems), reference, true);
    }

    @Override
    public JobCredential credential(String field, String name, List<String> problems) {
        return Credentials.check(credentials, tenant, field, name, problems);
    }

    @Override
    public void requireNamesFree(String field, List<String> names, List<String> problems) {
        artifacts.requireNamesFree(tenant, field, names, problems);
    }

    /** Every reference resolved, with the artifact it names. */
    public Map<String, UUID> resolved() {
        return Map.copyOf(resolved);
    }

    private JobInput input(Artifact a, String reference, boolean singleFile) {
        if (a == null) {
            return null;
        }
        resolved.put(reference, a.id());
        Path location = singleFile ? a.singleFile() : a.dir();
        paths.add(location, a.dir(), a.name());
        return new JobInput(reference, a.id(), a.name(), a.kind(), location);
    }

    /** {@code problems} with every resolved artifact's path on the server written as its quoted name ({@link ArtifactPaths}). */
    public List<String> withArtifactNames(List<String> problems) {
        return paths.named(problems);
    }
}
