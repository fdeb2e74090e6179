package dev.amalgam.platform.error;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.multipart.MaxUploadSizeExceededException;
import org.springframework.web.multipart.MultipartException;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/** Renders every error as application/problem+json with a stable {@code type} and a human {@code detail}. */
@RestControllerAdvice
public class ProblemHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    @ExceptionHandler(ApiException.class)
    ResponseEntity<ProblemDetail> api(ApiException e) {
        return problem(e.status(), e.type(), e.getMessage(), e.errors());
    }

    @ExceptionHandler(MethodArgumentNotValidException.class)
    ResponseEntity<ProblemDetail> invalidBody(MethodArgumentNotValidException e) {
        List<String> errors = new ArrayList<>();
        e.getBindingResult().getFieldErrors().forEach(f -> errors.add(f.getField() + ": " + f.getDefaultMessage()));
        e.getBindingResult().getGlobalErrors().forEach(g -> errors.add(g.getDefaultMessage()));
        return api(ApiException.invalid(errors));
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<ProblemDetail> unreadable(HttpMessageNotReadableException e) {
        String cause = e.getMostSpecificCause().getMessage();
        return problem(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST,
                "The request body could not be read: " + withoutJavaNames(firstLine(cause)), List.of());
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ProblemDetail> mismatch(MethodArgumentTypeMismatchException e) {
        Class<?> type = e.getRequiredType();
        String expected;
        if (type != null && type.isEnum()) {
            expected = "one of " + java.util.Arrays.toString(type.getEnumConstants());
        } else if (type == java.util.UUID.class) {
            expected = "a UUID";
        } else if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            expected = "an integer";
        } else if (type == boolean.class || type == Boolean.class) {
            expected = "true or false";
        } else {
            expected = "a valid value";
        }
        String detail = e.getName() + ": '" + e.getValue() + "' is not " + expected;
        return problem(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST, detail, List.of(detail));
    }

    @ExceptionHandler(MissingServletRequestParameterException.class)
    ResponseEntity<ProblemDetail> missingParameter(MissingServletRequestParameterException e) {
        String detail = e.getParameterName() + ": a required query parameter is missing";
        return problem(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST, detail, List.of(detail));
    }

    @ExceptionHandler(org.springframework.web.multipart.support.MissingServletRequestPartException.class)
    ResponseEntity<ProblemDetail> missingPart(org.springframework.web.multipart.support.MissingServletRequestPartException e) {
        String detail = e.getRequestPartName() + ": a required part of the multipart body is missing";
        return problem(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST, detail, List.of(detail));
    }

    @ExceptionHandler(org.springframework.web.bind.ServletRequestBindingException.class)
    ResponseEntity<ProblemDetail> badParameter(Exception e) {
        return problem(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST, withoutJavaNames(e.getMessage()), List.of());
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    ResponseEntity<ProblemDetail> method(HttpRequestMethodNotSupportedException e) {
        return problem(HttpStatus.METHOD_NOT_ALLOWED, ProblemType.METHOD_NOT_ALLOWED, e.getMessage(), List.of());
    }

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    ResponseEntity<ProblemDetail> mediaType(HttpMediaTypeNotSupportedException e) {
        return problem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, ProblemType.UNSUPPORTED_MEDIA_TYPE, e.getMessage(), List.of());
    }

    @ExceptionHandler(MaxUploadSizeExceededException.class)
    ResponseEntity<ProblemDetail> tooLarge(MaxUploadSizeExceededException e) {
        return problem(HttpStatus.PAYLOAD_TOO_LARGE, ProblemType.PAYLOAD_TOO_LARGE, e.getMessage(), List.of());
    }

    @ExceptionHandler(MultipartException.class)
    ResponseEntity<ProblemDetail> multipart(MultipartException e) {
        return problem(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST, "Malformed multipart request: " + e.getMessage(), List.of());
    }

    /** Tomcat parses the query string (and form bodies) when a parameter is first read. */
    @ExceptionHandler(org.apache.tomcat.util.http.InvalidParameterException.class)
    ResponseEntity<ProblemDetail> undecodableParameters(org.apache.tomcat.util.http.InvalidParameterException e) {
        return problem(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST,
                "The query string could not be decoded: use UTF-8 and valid percent-encoding (%XX)", List.of());
    }

    @ExceptionHandler(NoResourceFoundException.class)
    ResponseEntity<ProblemDetail> noResource(NoResourceFoundException e) {
        return problem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND, "No such resource: /" + e.getResourcePath(), List.of());
    }

    /** The client left (an event stream closed mid-write): there is nobody to answer. */
    @ExceptionHandler(org.springframework.web.context.request.async.AsyncRequestNotUsableException.class)
    void clientGone() {
        // nothing to write
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e) {
        if (dev.amalgam.platform.job.DatabaseRetry.isTransient(e)) {
            // the registry is restarting or stalled: the client may retry (job submissions with the same Idempotency-Key)
            log.warn("The database is unreachable: {}", e.toString());
            return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", "5")
                    .contentType(MediaType.APPLICATION_PROBLEM_JSON)
                    .body(problem(HttpStatus.SERVICE_UNAVAILABLE, ProblemType.UNAVAILABLE,
                            "The job registry is unreachable for the moment; retry in a few seconds", List.of()).getBody());
        }
        if (e instanceof org.springframework.web.ErrorResponse error && error.getStatusCode().is4xxClientError()) {
            // the rest of Spring MVC's own request errors (406 for an Accept header nothing matches, ...)
            int status = error.getStatusCode().value();
            String detail = error.getBody().getDetail();
            return problem(error.getStatusCode(), ProblemType.forStatus(status),
                    detail != null ? withoutJavaNames(detail) : ProblemErrorController.detail(status), List.of());
        }
        if (causedByUnreadableRequest(e)) {
            // Tomcat could not read the request body (broken chunked framing) while it was passed on
            return problem(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST, "The request body could not be read: its framing is broken",
                    List.of());
        }
        if (outOfSpace(e)) {
            // what was staged is removed by the code that staged it; an operator must free space
            log.error("The data directory's disk is full", e);
            return problem(HttpStatus.INSUFFICIENT_STORAGE, ProblemType.INSUFFICIENT_STORAGE,
                    "The server's storage is full: nothing was stored. Retry once space has been freed", List.of());
        }
        log.error("Unhandled error", e);
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, ProblemType.INTERNAL,
                "An internal error occurred; the server log has the details", List.of());
    }

    /** Whether an I/O error on the way is ENOSPC or EDQUOT, as the JDK reports them. */
    static boolean outOfSpace(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String reason = t instanceof java.nio.file.FileSystemException fs && fs.getReason() != null ? fs.getReason() : t.getMessage();
            if (t instanceof java.io.IOException && reason != null
                    && (reason.contains("No space left on device") || reason.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    private static boolean causedByUnreadableRequest(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.apache.coyote.BadRequestException) {
                return true;
            }
        }
        return false;
    }

    /** Builds the response; public so filters outside the MVC dispatch can write the same body. */
    public static ResponseEntity<ProblemDetail> problem(HttpStatusCode status, ProblemType type, String detail, List<String> errors) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(status, detail);
        body.setType(type.uri());
        body.setTitle(type.title());
        if (!errors.isEmpty()) {
            body.setProperty("errors", errors);
        }
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(body);
    }

    /** Writes a problem+json answer from a servlet filter, outside the MVC dispatch. */
    public static void write(jakarta.servlet.http.HttpServletResponse response, tools.jackson.databind.json.JsonMapper json,
                             HttpStatus status, ProblemType type, String detail) throws java.io.IOException {
        response.setStatus(status.value());
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        json.writeValue(response.getOutputStream(), problem(status, type, detail, List.of()).getBody());
    }

    /**
     * Jackson and Spring name the Java types they failed to build ({@code `dev.amalgam....ArtifactKind`},
     * {@code java.lang.String}): clients know the API, not its classes, so only the simple name is kept.
     */
    static String withoutJavaNames(String s) {
        if (s == null) {
            return null;
        }
        return s.replaceAll("`?\\b(?:[a-z][a-z0-9_]*\\.)+([A-Z][A-Za-z0-9_$]*)`?", "$1")
                .replaceAll("\\(for Object starting with '[^']*'\\)", "")
                .replaceAll("\\s+at \\[Source:.*$", "");
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "empty or malformed body";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
