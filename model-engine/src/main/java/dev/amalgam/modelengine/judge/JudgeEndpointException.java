package dev.amalgam.modelengine.judge;

/**
 * The judge endpoint failed for good: a status that is not retried (a 4xx other than 429), or a retried failure
 * (429, 5xx, no connection, a timeout) that outlasted every retry. The message holds the endpoint's HTTP status and
 * its own error message, never the API key.
 */
public final class JudgeEndpointException extends RuntimeException {

    private final int status;
    private final String endpointMessage;
    private final int attempts;

    /**
     * @param status the HTTP status of the last attempt, or -1 when no response came (connection refused, timeout)
     * @param endpointMessage the endpoint's error message (from its JSON error body, else the body itself, shortened),
     *                        or what went wrong on the connection
     * @param attempts how many requests were sent for this completion
     */
    public JudgeEndpointException(String url, int status, String endpointMessage, int attempts) {
        super("judge endpoint " + url + (status < 0 ? " unreachable" : " answered HTTP " + status) + ": " + endpointMessage
                + " (after " + attempts + (attempts == 1 ? " attempt)" : " attempts)"));
        this.status = status;
        this.endpointMessage = endpointMessage;
        this.attempts = attempts;
    }

    /** The HTTP status of the last attempt, or -1 when there was no response. */
    public int status() {
        return status;
    }

    public String endpointMessage() {
        return endpointMessage;
    }

    public int attempts() {
        return attempts;
    }
}
