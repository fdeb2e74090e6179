package dev.amalgam.platform.jobtype;

import dev.amalgam.platform.credential.CredentialService;
import java.util.List;
import java.util.UUID;

/** The credential check that {@link TenantInputs} and {@link StoredInputs} share. */
final class Credentials {

    private Credentials() {
    }

    static JobCredential check(CredentialService credentials, UUID tenant, String field, String name, List<String> problems) {
        if (credentials == null) {
            problems.add(field + ": registered credentials are not available here");
            return null;
        }
        if (credentials.find(tenant, name).isEmpty()) {
            problems.add(field + ": this tenant has no credential named '" + name + "' (register it with POST "
                    + "/api/v1/credentials)");
            return null;
        }
        return new JobCredential(name, () -> credentials.secret(tenant, name));
    }
}
