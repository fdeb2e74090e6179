package dev.amalgam.platform.error;

import java.util.List;
import org.springframework.http.HttpStatus;

/**
 * An error with a stable problem type, rendered as RFC 9457 problem+json by {@link ProblemHandler}.
 * Throw it from anywhere in a request; {@code errors} lists every individual problem (for 422).
 */
public class ApiException extends RuntimeException {

    private final HttpStatus status;
    private final ProblemType type;
    private final List<String> errors;

    public ApiException(HttpStatus status, ProblemType type, String detail, List<String> errors) {
        super(detail);
        this.status = status;
        this.type = type;
        this.errors = List.copyOf(errors);
    }

    public ApiException(HttpStatus status, ProblemType type, String detail) {
        this(status, type, detail, List.of());
    }

    public static ApiException notFound(String what, Object id) {
        return new ApiException(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND, what + " " + id + " was not found");
    }

    public static ApiException invalid(List<String> errors) {
        String detail = errors.size() == 1 ? errors.get(0) : errors.size() + " problems in the request: " + String.join("; ", errors);
        return new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, ProblemType.VALIDATION, detail, errors);
    }

    /** 413: the request carries more than this server accepts. */
    public static ApiException tooLarge(String detail) {
        return new ApiException(HttpStatus.PAYLOAD_TOO_LARGE, ProblemType.PAYLOAD_TOO_LARGE, detail);
    }

    public static ApiException conflict(String detail) {
        return new ApiException(HttpStatus.CONFLICT, ProblemType.CONFLICT, detail);
    }

    public HttpStatus status() {
        return status;
    }

    public ProblemType type() {
        return type;
    }

    public List<String> errors() {
        return errors;
    }
}
