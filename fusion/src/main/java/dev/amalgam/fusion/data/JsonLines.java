package dev.amalgam.fusion.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Reads a JSONL file line by line; a line that is not valid JSON, or that its consumer rejects, fails with its number. */
public final class JsonLines {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private JsonLines() {
    }

    /** Streams every non-blank line of {@code file}, parsed, to {@code sink}; returns how many lines were blank. */
    public static long read(Path file, Consumer<JsonNode> sink) {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            long blank = 0;
            while ((line = r.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    blank++;
                    continue;
                }
                try {
                    sink.accept(MAPPER.readTree(line));
                } catch (JacksonException | IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + " line " + number + ": " + e.getMessage(), e);
                }
            }
            return blank;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
