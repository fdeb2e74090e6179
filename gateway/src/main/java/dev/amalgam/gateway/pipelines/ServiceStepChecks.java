package dev.amalgam.gateway.pipelines;

import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.error.ProblemType;
import dev.amalgam.platform.pipeline.PipelineCheckEndpoint;
import dev.amalgam.platform.pipeline.PipelineSpec;
import dev.amalgam.platform.pipeline.PipelineSubmissions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Asks every service to check the pipeline steps of its job types ({@link PipelineCheckEndpoint}), with the caller's
 * own Authorization header, so each service resolves references among the caller's artifacts; the answers together
 * say which types exist and every problem of every step.
 */
final class ServiceStepChecks implements PipelineSubmissions.Checker {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final HttpClient http;
    private final List<String> services;
    private final String authorization;
    private final JsonMapper json;

    ServiceStepChecks(HttpClient http, List<String> services, String authorization, JsonMapper json) {
        this.http = http;
        this.services = services;
        this.authorization = authorization;
        this.json = json;
    }

    @Override
    public PipelineSubmissions.Checked check(PipelineSpec spec) {
        Set<String> types = new LinkedHashSet<>();
        List<String> problems = new ArrayList<>();
        Map<String, List<String>> names = new LinkedHashMap<>();
        Set<java.util.UUID> inputs = new LinkedHashSet<>();
        String body = json.writeValueAsString(spec.toJson());
        for (String service : services) {
            JsonNode answer = ask(service, body);
            answer.path("types").forEach(t -> types.add(t.stringValue()));
            answer.path("problems").forEach(p -> problems.add(p.stringValue()));
            answer.path("inputs").forEach(a -> inputs.add(java.util.UUID.fromString(a.stringValue())));
            answer.path("outputNames").properties().forEach(e -> {
                List<String> list = names.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
                e.getValue().forEach(n -> list.add(n.stringValue()));
            });
        }
        // the services answer in their own order: the problems in the order of the steps
        problems.sort(java.util.Comparator.comparingInt(ServiceStepChecks::stepIndex));
        return new PipelineSubmissions.Checked(types, problems, names, List.copyOf(inputs));
    }

    private JsonNode ask(String service, String body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(service.replaceAll("/+$", "") + PipelineCheckEndpoint.PATH))
                .timeout(TIMEOUT).header("Content-Type", "application/json").header("Authorization", authorization)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw unavailable(service, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(service, "interrupted");
        }
        if (response.statusCode() == 404) {
            // a service with no job types does not answer the check
            return json.createObjectNode();
        }
        if (response.statusCode() != 200) {
            throw unavailable(service, "HTTP " + response.statusCode() + ": " + response.body());
        }
        return json.readTree(response.body());
    }

    private static ApiException unavailable(String service, String why) {
        return new ApiException(HttpStatus.SERVICE_UNAVAILABLE, ProblemType.UNAVAILABLE,
                "The pipeline's steps could not be checked: the service at " + service + " did not answer (" + why + ")");
    }

    private static int stepIndex(String problem) {
        if (!problem.startsWith("steps[")) {
            return Integer.MAX_VALUE;
        }
        int end = problem.indexOf(']');
        try {
            return Integer.parseInt(problem.substring(6, end));
        } catch (RuntimeException e) {
            return Integer.MAX_VALUE;
        }
    }
}
