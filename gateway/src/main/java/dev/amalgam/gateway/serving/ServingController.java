package dev.amalgam.gateway.serving;

import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.error.ProblemType;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.job.JobStatus;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /api/v1/servings/{jobId}/v1/...}: OpenAI's API of a running serve job, behind the gateway's API keys. The
 * caller's key must belong to the job's tenant (another tenant's job is 404, as every object); the request goes
 * to the endpoint the job recorded in its checkpoint, with the job's secret instead of the caller's key, and the
 * answer streams back as it comes (server-sent events included). An OpenAI client's base URL is
 * {@code http://host:8080/api/v1/servings/{jobId}/v1}, its API key the Amalgam key.
 */
@RestController
@Tag(name = "servings")
class ServingController {

    /** The serve job type's name and checkpoint fields (pruning-service's ServeJobType). */
    static final String SERVE_TYPE = "serve";
    static final String ENDPOINT_FIELD = "endpoint";
    static final String TOKEN_FIELD = "token";
    /** The header the serving worker checks (model-engine's OpenAiHttpServer.TOKEN_HEADER). */
    static final String TOKEN_HEADER = "X-Amalgam-Serving-Token";
    /** Request bodies above this are refused (a chat request is text). */
    static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

    private final JobService jobs;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    ServingController(JobService jobs) {
        this.jobs = jobs;
    }

    @RequestMapping(value = "/api/v1/servings/{id}/v1/**", method = {RequestMethod.GET, RequestMethod.POST})
    @Operation(summary = "OpenAI's API of a running serve job: POST .../v1/chat/completions, .../v1/completions, GET .../v1/models")
    void forward(Caller caller, @PathVariable UUID id, HttpServletRequest request, HttpServletResponse response)
            throws IOException, InterruptedException {
        Job job = jobs.get(caller.tenantId(), id);
        if (!job.type().equals(SERVE_TYPE)) {
            throw ApiException.notFound("Serving", id);
        }
        if (job.status() != JobStatus.RUNNING) {
            throw ApiException.conflict("the serve job is " + job.status() + ", not serving");
        }
        String endpoint = job.checkpoint() == null ? null : job.checkpoint().path(ENDPOINT_FIELD).asString(null);
        String token = job.checkpoint() == null ? null : job.checkpoint().path(TOKEN_FIELD).asString(null);
        if (endpoint == null || token == null) {
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, ProblemType.UNAVAILABLE, "the model is still loading");
        }
        String prefix = "/api/v1/servings/" + id;
        String rest = request.getRequestURI().substring(request.getRequestURI().indexOf(prefix) + prefix.length());
        byte[] body = request.getInputStream().readNBytes(MAX_BODY_BYTES + 1);
        if (body.length > MAX_BODY_BYTES) {
            throw ApiException.tooLarge("a serving request may have at most " + MAX_BODY_BYTES + " bytes");
        }
        HttpRequest.Builder forward = HttpRequest.newBuilder(URI.create(endpoint + rest)).header(TOKEN_HEADER, token);
        if (request.getMethod().equals("POST")) {
            forward.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body));
        } else {
            forward.GET();
        }
        HttpResponse<InputStream> answer;
        try {
            answer = http.send(forward.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException e) {
            // the job is RUNNING but its server is gone (a new attempt is loading, or the worker died)
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, ProblemType.UNAVAILABLE, "the model server is not reachable");
        }
        response.setStatus(answer.statusCode());
        answer.headers().firstValue("Content-Type").ifPresent(response::setContentType);
        answer.headers().firstValue("Cache-Control").ifPresent(v -> response.setHeader("Cache-Control", v));
        try (InputStream in = answer.body(); OutputStream out = response.getOutputStream()) {
            byte[] buffer = new byte[8192];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                out.write(buffer, 0, n);
                out.flush(); // each server-sent event reaches the client as it is made
            }
        }
    }
}
