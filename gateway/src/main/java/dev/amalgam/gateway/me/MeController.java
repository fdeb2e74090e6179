package dev.amalgam.gateway.me;

import dev.amalgam.platform.auth.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.UUID;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/v1/me}: who the API key belongs to. A client (the dashboard's sign-in) checks a key
 * with it and shows the tenant; any live key may call it, admin or not.
 */
@RestController
@Tag(name = "me")
class MeController {

    /** The caller as the key identifies it; never the secret. */
    record Me(UUID tenantId, String tenantName, UUID keyId, boolean admin) {
    }

    @GetMapping("/api/v1/me")
    @Operation(summary = "The tenant and API key of the caller")
    Me me(Caller caller) {
        return new Me(caller.tenantId(), caller.tenantName(), caller.keyId(), caller.admin());
    }
}
