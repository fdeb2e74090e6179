package dev.amalgam.platform.auth;

import java.util.UUID;

/** The authenticated caller of a request: every object it sees belongs to {@code tenantId}. */
public record Caller(UUID tenantId, String tenantName, UUID keyId, boolean admin) {

    /** Request attribute under which {@link ApiKeyFilter} stores the caller. */
    public static final String ATTRIBUTE = Caller.class.getName();
}
