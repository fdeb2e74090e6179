package dev.amalgam.modelio;

import java.nio.file.Path;

/** A file breaks a rule of the safetensors format; the message names the file and the rule. */
public class SafetensorsFormatException extends RuntimeException {

    public SafetensorsFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public SafetensorsFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
