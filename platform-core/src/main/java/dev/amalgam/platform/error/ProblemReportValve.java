package dev.amalgam.platform.error;

import java.io.IOException;
import java.io.Writer;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tomcat's error report for requests it refuses before any application sees them (a malformed request
 * line or URL, an encoded slash, an over-long header, broken framing): problem+json instead of Tomcat's
 * HTML page. A request Tomcat cannot read at all is the client's error, so the two statuses Tomcat gives
 * such requests from the 5xx range (505 for an unknown HTTP version, 501 for an unknown transfer coding)
 * answer 400.
 */
public class ProblemReportValve extends ErrorReportValve {

    private final JsonMapper json;

    public ProblemReportValve(JsonMapper json) {
        this.json = json;
    }

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        // as Tomcat's own report: only for an error nobody has answered yet, and only while the client can still read
        if (response.getStatus() < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        AtomicBoolean ioAllowed = new AtomicBoolean(true);
        response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
        if (!ioAllowed.get()) {
            return;
        }
        int status = response.getStatus() == 501 || response.getStatus() == 505 ? 400 : response.getStatus();
        try {
            response.setStatus(status);
            response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
            response.setCharacterEncoding("UTF-8");
            Writer writer = response.getReporter();
            if (writer != null) {
                writer.write(json.writeValueAsString(ProblemHandler.problem(HttpStatusCode.valueOf(status),
                        ProblemType.forStatus(status), ProblemErrorController.detail(status), List.of()).getBody()));
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException e) {
            // the client is gone, or the response was committed meanwhile: nothing more to answer
        }
    }
}
