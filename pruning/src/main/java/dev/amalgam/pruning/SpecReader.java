package dev.amalgam.pruning;

import java.util.List;
import tools.jackson.databind.JsonNode;

/** Typed reads of optional spec fields that record a problem instead of failing. */
final class SpecReader {

    private final JsonNode json;
    private final List<String> problems;
    private boolean typeErrors;

    SpecReader(JsonNode json, List<String> problems) {
        this.json = json;
        this.problems = problems;
    }

    /** Whether any field had the wrong JSON type. */
    boolean typeErrors() {
        return typeErrors;
    }

    String string(String field, String fallback) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isString()) {
            return wrong(field, "a string", n);
        }
        return n.asString();
    }

    Integer optionalInt(String field) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber()) {
            return wrong(field, "an integer", n);
        }
        if (!n.canConvertToInt()) {
            // asInt() would throw on it; the field's own range is far smaller
            problems.add(field + ": " + n + " is out of range");
            typeErrors = true;
            return null;
        }
        return n.asInt();
    }

    int intOr(String field, int fallback) {
        Integer v = optionalInt(field);
        return v == null ? fallback : v;
    }

    long longOr(String field, long fallback) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            wrong(field, "an integer", n);
            return fallback;
        }
        return n.asLong();
    }

    Double optionalDouble(String field) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isNumber()) {
            return wrong(field, "a number", n);
        }
        return n.asDouble();
    }

    private <T> T wrong(String field, String expected, JsonNode got) {
        problems.add(field + ": must be " + expected + ", got " + got);
        typeErrors = true;
        return null;
    }
}
