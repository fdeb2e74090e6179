package dev.amalgam.platform.error;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.RequestMapping;
import tools.jackson.databind.json.JsonMapper;

/**
 * The servlet container's error page: what Tomcat and the filters answer outside Spring MVC's exception
 * handling (a TRACE request, a broken request body, an exception in a filter) is problem+json too, instead
 * of Spring Boot's JSON or HTML error page. Written directly, whatever the request's Accept header says.
 */
@Controller
@RequestMapping("${server.error.path:${error.path:/error}}")
public class ProblemErrorController implements ErrorController {

    private final JsonMapper json;

    public ProblemErrorController(JsonMapper json) {
        this.json = json;
    }

    @RequestMapping
    void error(HttpServletRequest request, HttpServletResponse response) throws IOException {
        // requested directly, /error is no error of anything
        int status = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE) instanceof Integer code && code >= 400 ? code : 404;
        write(json, response, status);
    }

    /** Writes the problem for an error known only by its status; no message of the container is passed on. */
    static void write(JsonMapper json, HttpServletResponse response, int status) throws IOException {
        response.setStatus(status);
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.setCharacterEncoding("UTF-8");
        json.writeValue(response.getOutputStream(),
                ProblemHandler.problem(HttpStatusCode.valueOf(status), ProblemType.forStatus(status), detail(status), List.of()).getBody());
    }

    static String detail(int status) {
        return switch (status) {
            case 400 -> "The request is malformed: its request line, URL (percent-encoding, characters), headers or body"
                    + " framing could not be read";
            case 404 -> "No such resource";
            case 405 -> "This method is not allowed here (TRACE never is)";
            case 413 -> "The request is too large";
            case 417 -> "Only 'Expect: 100-continue' is supported";
            case 500 -> "An internal error occurred; the server log has the details";
            default -> {
                HttpStatus known = HttpStatus.resolve(status);
                yield known != null ? known.getReasonPhrase() : "Error " + status;
            }
        };
    }
}
