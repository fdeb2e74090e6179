package dev.amalgam.gateway.credentials;

import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.credential.CredentialService;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.error.ProblemType;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code /api/v1/credentials}: the caller's tenant's registered credentials, secrets (a judge endpoint's API key) that
 * job specs name instead of carrying. Any key of the tenant may register, list and delete them; the secret is sealed
 * with the platform's master key, and no answer ever contains it (only its name, a fingerprint and when it was made).
 */
@RestController
@RequestMapping("/api/v1/credentials")
@Tag(name = "credentials")
class CredentialsController {

    private final CredentialService credentials;
    private final JsonMapper json;

    CredentialsController(CredentialService credentials, JsonMapper json) {
        this.credentials = credentials;
        this.json = json;
    }

    /** The request body (documentation only: the body is read as text so that no error can echo the secret). */
    @Schema(description = "A new credential")
    record NewCredential(
            @Schema(description = "1-100 letters, digits, '.', '_' and '-', unique in the tenant",
                    requiredMode = Schema.RequiredMode.REQUIRED, example = "openai-judge") String name,
            @Schema(description = "the secret (visible ASCII, at most 8192 characters); stored encrypted and never shown "
                    + "again", requiredMode = Schema.RequiredMode.REQUIRED, format = "password", writeOnly = true)
            String secret) {
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(summary = "Register a credential (201; 409 when the name is taken; the secret is never shown again)",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = NewCredential.class),
                    examples = @ExampleObject(value = "{\"name\": \"openai-judge\", \"secret\": \"YOUR-KEY\"}"))))
    ResponseEntity<CredentialService.Credential> create(Caller caller, @RequestBody(required = false) String body) {
        JsonNode node = parse(body);
        List<String> problems = new ArrayList<>();
        if (node == null || !node.isObject()) {
            throw ApiException.invalid(List.of("body: a JSON object {name, secret} is required"));
        }
        for (Iterator<String> fields = node.propertyNames().iterator(); fields.hasNext(); ) {
            String field = fields.next();
            if (!field.equals("name") && !field.equals("secret")) {
                problems.add(abbreviate(field) + ": unknown field (a credential has name and secret)");
            }
        }
        JsonNode name = node.get("name");
        JsonNode secret = node.get("secret");
        if (name != null && !name.isNull() && !name.isString()) {
            problems.add("name: must be a string");
        }
        if (secret != null && !secret.isNull() && !secret.isString()) {
            // the value is not repeated: it may be the secret
            problems.add("secret: must be a string");
        }
        String nameText = name != null && name.isString() ? name.stringValue() : null;
        String secretText = secret != null && secret.isString() ? secret.stringValue() : null;
        List<String> own = CredentialService.problems(nameText, secretText);
        for (String p : own) {
            boolean typed = (p.startsWith("name:") && name != null && !name.isNull() && !name.isString())
                    || (p.startsWith("secret:") && secret != null && !secret.isNull() && !secret.isString());
            if (!typed) {
                problems.add(p);
            }
        }
        if (!problems.isEmpty()) {
            throw ApiException.invalid(problems);
        }
        if (credentials.find(caller.tenantId(), nameText).isPresent()) {
            throw ApiException.conflict("A credential named '" + nameText + "' already exists; delete it first to replace it");
        }
        CredentialService.Credential created;
        try {
            created = credentials.create(caller.tenantId(), nameText, secretText);
        } catch (DuplicateKeyException raced) {
            throw ApiException.conflict("A credential named '" + nameText + "' already exists; delete it first to replace it");
        } catch (CredentialService.CredentialException e) {
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, ProblemType.UNAVAILABLE, e.getMessage());
        }
        return ResponseEntity.created(URI.create("/api/v1/credentials/" + created.name())).body(created);
    }

    @GetMapping
    @Operation(summary = "List the tenant's credentials by name (name, fingerprint, created; never the secret)")
    List<CredentialService.Credential> list(Caller caller) {
        return credentials.list(caller.tenantId());
    }

    @GetMapping("/{name}")
    @Operation(summary = "A credential's name, fingerprint and creation time (never the secret)")
    CredentialService.Credential get(Caller caller, @PathVariable String name) {
        return credentials.find(caller.tenantId(), name).orElseThrow(() -> ApiException.notFound("Credential", name));
    }

    @DeleteMapping("/{name}")
    @Operation(summary = "Delete a credential and its secret; jobs that name it and have not run yet will fail")
    ResponseEntity<Void> delete(Caller caller, @PathVariable String name) {
        if (!credentials.delete(caller.tenantId(), name)) {
            throw ApiException.notFound("Credential", name);
        }
        return ResponseEntity.noContent().build();
    }

    /** Parses the body; a syntax error is reported by position only, since the text around it may be the secret. */
    private JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        try {
            return json.readTree(body);
        } catch (JacksonException e) {
            var location = e.getLocation();
            String where = location == null ? "" : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
            throw new ApiException(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST, "The request body is not valid JSON" + where);
        }
    }

    private static String abbreviate(String field) {
        return field.length() <= 60 ? field : field.substring(0, 60) + "...";
    }
}
