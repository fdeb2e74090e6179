package dev.amalgam.modelio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The one JSON mapper of Amalgam and small helpers around it, so every module reads and writes
 * JSON (config.json, index files, reports) the same way: UTF-8, pretty printed, trailing newline,
 * written atomically.
 *
 * <pre>{@code
 * JsonNode config = Json.read(dir.resolve("config.json"));
 * Json.write(out.resolve("report.json"), Map.of("loss", 0.25));
 * }</pre>
 */
public final class Json {

    /** The shared mapper (compact output). */
    public static final JsonMapper MAPPER = JsonMapper.builder().build();

    /** Rejects duplicate keys and trailing content: for untrusted file headers. */
    static final JsonMapper STRICT_MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final ObjectWriter PRETTY = MAPPER.writerWithDefaultPrettyPrinter();

    private Json() {
    }

    /** A new empty object node. */
    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /** Parses a JSON file as a tree; the error names the file. */
    public static JsonNode read(Path file) {
        try {
            return MAPPER.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(file + ": invalid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Reads a JSON file into a type (records work); the error names the file. */
    public static <T> T read(Path file, Class<T> type) {
        try {
            return MAPPER.readValue(Files.readString(file, StandardCharsets.UTF_8), type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(file + ": cannot read as " + type.getSimpleName() + ": "
                    + e.getOriginalMessage(), e);
        }
    }

    /** Pretty-printed JSON text with a trailing newline. */
    public static String toPrettyString(Object value) {
        return PRETTY.writeValueAsString(value) + "\n";
    }

    /** Compact single-line JSON text. */
    public static String toCompactString(Object value) {
        return MAPPER.writeValueAsString(value);
    }

    /** Writes pretty-printed JSON to {@code file + ".tmp"} and renames it into place. */
    public static void write(Path file, Object value) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, toPrettyString(value), StandardCharsets.UTF_8);
            FileMoves.moveIntoPlace(tmp, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
