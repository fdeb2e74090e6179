package dev.amalgam.gateway.admin;

import dev.amalgam.platform.auth.ApiKeyService;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.error.ProblemType;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** /api/v1/admin: tenants and API keys; admin keys only. */
@RestController
@RequestMapping("/api/v1/admin")
@Tag(name = "admin")
class AdminController {

    private static final Pattern TENANT_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private final ApiKeyService keys;

    AdminController(ApiKeyService keys) {
        this.keys = keys;
    }

    record NewTenant(String name) {
    }

    record NewKey(String name, Boolean admin) {
    }

    @GetMapping("/tenants")
    @Operation(summary = "List tenants")
    List<ApiKeyService.Tenant> tenants(Caller caller) {
        requireAdmin(caller);
        return keys.tenants();
    }

    @PostMapping("/tenants")
    @Operation(summary = "Create a tenant")
    ResponseEntity<ApiKeyService.Tenant> createTenant(Caller caller, @RequestBody NewTenant body) {
        requireAdmin(caller);
        if (body.name() == null || !TENANT_NAME.matcher(body.name()).matches()) {
            throw ApiException.invalid(List.of("name: 1-63 lower-case letters, digits and '-', starting with a letter or digit"));
        }
        var tenant = keys.createTenant(body.name());
        return ResponseEntity.created(URI.create("/api/v1/admin/tenants/" + tenant.id())).body(tenant);
    }

    @GetMapping("/tenants/{tenantId}/keys")
    @Operation(summary = "List a tenant's API keys (never their secrets)")
    List<ApiKeyService.ApiKey> keys(Caller caller, @PathVariable UUID tenantId) {
        requireAdmin(caller);
        return keys.keys(tenantId);
    }

    @PostMapping("/tenants/{tenantId}/keys")
    @Operation(summary = "Create an API key; the secret is in this response only")
    ResponseEntity<ApiKeyService.CreatedKey> createKey(Caller caller, @PathVariable UUID tenantId, @RequestBody NewKey body) {
        requireAdmin(caller);
        List<String> errors = new ArrayList<>();
        if (body.name() == null || body.name().isBlank() || body.name().length() > 100 || !printable(body.name())) {
            errors.add("name: 1-100 characters, without control characters or unpaired surrogates");
        }
        if (keys.tenants().stream().noneMatch(t -> t.id().equals(tenantId))) {
            throw ApiException.notFound("Tenant", tenantId);
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        var created = keys.createKey(tenantId, body.name(), Boolean.TRUE.equals(body.admin()));
        return ResponseEntity.status(HttpStatus.CREATED).body(created);
    }

    @DeleteMapping("/keys/{keyId}")
    @Operation(summary = "Revoke an API key")
    ResponseEntity<Void> revoke(Caller caller, @PathVariable UUID keyId) {
        requireAdmin(caller);
        if (!keys.revoke(keyId)) {
            throw ApiException.notFound("Live API key", keyId);
        }
        return ResponseEntity.noContent().build();
    }

    /** Whether the name can be stored and shown as sent: PostgreSQL refuses NUL, and a lone surrogate is not Unicode. */
    private static boolean printable(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c)) {
                return false;
            }
            if (Character.isHighSurrogate(c) && i + 1 < name.length() && Character.isLowSurrogate(name.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static void requireAdmin(Caller caller) {
        if (!caller.admin()) {
            throw new ApiException(HttpStatus.FORBIDDEN, ProblemType.FORBIDDEN, "This needs an admin API key");
        }
    }
}
