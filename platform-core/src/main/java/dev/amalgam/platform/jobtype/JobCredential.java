package dev.amalgam.platform.jobtype;

import java.util.function.Supplier;

/**
 * A registered credential that a spec names (see {@link JobInputs#credential}): checked when the job is submitted,
 * opened only when {@link #secret()} is called, which a job does where it runs (on the worker) for the request that
 * needs it. The secret is never kept here, and is in no {@link #toString()}.
 */
public final class JobCredential {

    private final String name;
    private final Supplier<String> secret;

    /** @param secret opens the credential when called; it throws with a clear message when that is not possible */
    public JobCredential(String name, Supplier<String> secret) {
        this.name = name;
        this.secret = secret;
    }

    /** The credential's name in its tenant. */
    public String name() {
        return name;
    }

    /** The secret, opened now. */
    public String secret() {
        return secret.get();
    }

    @Override
    public String toString() {
        return "JobCredential[" + name + "]";
    }
}
