package dev.amalgam.modelengine.judge;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Reading the benchmarks' files: JSON Lines, or (AlpacaEval) one JSON list; errors name the file and line. */
final class JsonFiles {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** A record and where it came from, for messages: {@code question.jsonl line 3}. */
    record Row(JsonNode node, String where) {
    }

    private JsonFiles() {
    }

    /** Every non-blank line of a JSON Lines file, each an object. */
    static List<Row> jsonLines(Path file) {
        List<Row> rows = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int lineNo = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String where = file.getFileName() + " line " + lineNo;
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JacksonException e) {
                    throw new IllegalArgumentException(where + ": not JSON: " + e.getOriginalMessage());
                }
                if (!node.isObject()) {
                    throw new IllegalArgumentException(where + ": must be a JSON object");
                }
                rows.add(new Row(node, where));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file.getFileName(), e);
        }
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(file.getFileName() + " has no records");
        }
        return rows;
    }

    /** A file that is one JSON list of objects (AlpacaEval's outputs), or else JSON Lines of objects. */
    static List<Row> listOrJsonLines(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file.getFileName(), e);
        }
        if (!text.stripLeading().startsWith("[")) {
            return jsonLines(file);
        }
        JsonNode list;
        try {
            list = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(file.getFileName() + ": not a JSON list: " + e.getOriginalMessage());
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String where = file.getFileName() + " item " + i;
            if (!list.get(i).isObject()) {
                throw new IllegalArgumentException(where + ": must be a JSON object");
            }
            rows.add(new Row(list.get(i), where));
        }
        if (rows.isEmpty()) {
            throw new IllegalArgumentException(file.getFileName() + " has no records");
        }
        return rows;
    }

    /**
     * The answer file's model as this line names it in {@code field}, which must be the one the lines before named
     * ({@code before}, null on the first line): MT-Bench's and Arena-Hard's answer files hold one model each.
     */
    static String sameModel(Row row, String field, String before) {
        String model = string(row, field);
        if (before != null && !before.equals(model)) {
            throw new IllegalArgumentException(row.where() + ": " + field + " '" + model + "' differs from '" + before
                    + "' on the lines before (one model per answer file)");
        }
        return model;
    }

    static String string(Row row, String field) {
        JsonNode n = row.node().get(field);
        if (n == null || !n.isString()) {
            throw new IllegalArgumentException(row.where() + ": " + field + " must be a string"
                    + (n == null ? " (missing)" : ", got " + abbreviate(n.toString())));
        }
        return n.stringValue();
    }

    /** An id given as a string or an integer (MT-Bench's question_id is an integer), as text. */
    static String id(Row row, String field) {
        JsonNode n = row.node().get(field);
        if (n != null && n.isString() && !n.stringValue().isEmpty()) {
            return n.stringValue();
        }
        if (n != null && n.isIntegralNumber()) {
            return n.bigIntegerValue().toString();
        }
        throw new IllegalArgumentException(row.where() + ": " + field + " must be a string or an integer"
                + (n == null ? " (missing)" : ", got " + abbreviate(n.toString())));
    }

    static List<String> strings(Row row, JsonNode n, String field) {
        if (n == null || !n.isArray() || n.isEmpty()) {
            throw new IllegalArgumentException(row.where() + ": " + field + " must be a non-empty list of strings"
                    + (n == null ? " (missing)" : ""));
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            if (!n.get(i).isString()) {
                throw new IllegalArgumentException(row.where() + ": " + field + "[" + i + "] must be a string");
            }
            out.add(n.get(i).stringValue());
        }
        return out;
    }

    static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
