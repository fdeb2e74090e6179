package dev.amalgam.platform.error;

import java.net.URI;

/** Stable problem types: clients switch on {@link #uri()}, people read the title. */
public enum ProblemType {
    VALIDATION("validation-error", "The request is invalid"),
    NOT_FOUND("not-found", "Not found"),
    CONFLICT("conflict", "Conflict"),
    UNAUTHORIZED("unauthorized", "Missing or invalid API key"),
    FORBIDDEN("forbidden", "Not allowed"),
    PAYLOAD_TOO_LARGE("payload-too-large", "Payload too large"),
    TOO_MANY_REQUESTS("too-many-requests", "Too many requests"),
    BAD_REQUEST("bad-request", "Malformed request"),
    METHOD_NOT_ALLOWED("method-not-allowed", "Method not allowed"),
    UNSUPPORTED_MEDIA_TYPE("unsupported-media-type", "Unsupported media type"),
    UNAVAILABLE("service-unavailable", "Temporarily unavailable"),
    INSUFFICIENT_STORAGE("insufficient-storage", "The server's storage is full"),
    INTERNAL("internal-error", "Internal error");

    private final String slug;
    private final String title;

    ProblemType(String slug, String title) {
        this.slug = slug;
        this.title = title;
    }

    /** The type of an error known only by its status (the servlet container's, a framework's). */
    public static ProblemType forStatus(int status) {
        return switch (status) {
            case 401 -> UNAUTHORIZED;
            case 403 -> FORBIDDEN;
            case 404 -> NOT_FOUND;
            case 405 -> METHOD_NOT_ALLOWED;
            case 409 -> CONFLICT;
            case 413 -> PAYLOAD_TOO_LARGE;
            case 415 -> UNSUPPORTED_MEDIA_TYPE;
            case 422 -> VALIDATION;
            case 429 -> TOO_MANY_REQUESTS;
            case 503 -> UNAVAILABLE;
            case 507 -> INSUFFICIENT_STORAGE;
            default -> status >= 500 ? INTERNAL : BAD_REQUEST;
        };
    }

    public URI uri() {
        return URI.create("https://amalgam.dev/problems/" + slug);
    }

    public String title() {
        return title;
    }
}
