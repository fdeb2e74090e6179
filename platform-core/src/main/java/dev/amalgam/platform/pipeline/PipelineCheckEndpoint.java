package dev.amalgam.platform.pipeline;

import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.TenantInputs;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;

/**
 * {@code POST /api/v1/pipeline-checks} of a service: checks the steps of a pipeline whose types the service serves,
 * for the caller, and answers {@code {"types": [...], "problems": [...], "outputNames": {step: [names]}, "inputs": [artifact ids]}} (200 even
 * when there are problems). The gateway asks every service before it accepts a pipeline; the gateway does not route
 * this path, so clients cannot reach it.
 */
public final class PipelineCheckEndpoint implements SmartInitializingSingleton {

    /** The path each service answers on. */
    public static final String PATH = "/api/v1/pipeline-checks";

    private final StepChecks checks;
    private final ArtifactService artifacts;
    private final RequestMappingHandlerMapping mappings;
    private final dev.amalgam.platform.credential.CredentialService credentials;

    public PipelineCheckEndpoint(List<JobType<?, ?, ?>> types, ArtifactService artifacts, RequestMappingHandlerMapping mappings) {
        this(types, artifacts, mappings, null);
    }

    /** @param credentials the tenants' registered credentials that step specs may name; null where there are none */
    public PipelineCheckEndpoint(List<JobType<?, ?, ?>> types, ArtifactService artifacts, RequestMappingHandlerMapping mappings,
                                 dev.amalgam.platform.credential.CredentialService credentials) {
        this.credentials = credentials;
        this.checks = new StepChecks(types);
        this.artifacts = artifacts;
        this.mappings = mappings;
    }

    /** The answer. */
    public record Answer(List<String> types, List<String> problems, Map<String, List<String>> outputNames,
                         List<java.util.UUID> inputs) {
    }

    @Override
    public void afterSingletonsInstantiated() {
        if (checks.types().isEmpty()) {
            return;
        }
        Method check;
        try {
            check = PipelineCheckEndpoint.class.getDeclaredMethod("check", Caller.class, JsonNode.class);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        RequestMappingInfo info = RequestMappingInfo.paths(PATH).methods(RequestMethod.POST)
                .options(mappings.getBuilderConfiguration()).build();
        mappings.registerMapping(info, this, check);
    }

    /** Checks the steps served here. */
    public org.springframework.http.ResponseEntity<Answer> check(Caller caller, @RequestBody JsonNode body) {
        List<String> problems = new ArrayList<>();
        PipelineSpec spec = PipelineSpecReader.read(body, problems);
        if (spec == null) {
            throw ApiException.invalid(problems);
        }
        TenantInputs inputs = new TenantInputs(artifacts, caller.tenantId(), credentials);
        StepChecks.Result r = checks.check(spec, inputs);
        // a ResponseEntity: a handler registered by hand has no @ResponseBody, and a plain value would name a view
        return org.springframework.http.ResponseEntity.ok(new Answer(checks.types(), inputs.withArtifactNames(r.problems()),
                r.outputNames(), r.inputs()));
    }
}
