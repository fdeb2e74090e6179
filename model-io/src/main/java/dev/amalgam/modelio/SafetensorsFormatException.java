package dev.amalgam.modelio;

import java.nio.file.Path;

/** A file breaks a rule of the safetensors format; the message is {@code "<file>: <problem>"}. */
public class SafetensorsFormatException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String problem;

    public SafetensorsFormatException(Path file, String problem) {
        this(file, problem, null);
    }

    public SafetensorsFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
        this.problem = problem;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }

    /** The broken rule, without the file name. */
    public String problem() {
        return problem;
    }
}
