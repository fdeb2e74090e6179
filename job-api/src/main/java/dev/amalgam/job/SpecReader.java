package dev.amalgam.job;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Reads the fields of a JSON object into typed values, collecting every problem as {@code "json.path: what is
 * wrong"} instead of stopping at the first. Every job spec is read with it, so all job types report bad input the
 * same way.
 *
 * <p>Each typed read names the field it asks for; fields of the object that no read asked for are reported as
 * unknown by {@link #finish()}. An absent field and an explicit {@code null} are the same. Numbers are checked
 * without conversion: {@code 1.5} is not an integer, {@code "7"} not a number, {@code 2147483648} out of an int's
 * range, and non-finite values are never accepted.
 *
 * <pre>{@code
 * SpecReader r = SpecReader.of(json);
 * String model = r.requiredString("model", "the MODEL artifact to prune");
 * int seqLen = r.integer("seqLen", 2, 131_072, 2048);
 * SpecReader build = r.object("build");           // null when absent; its problems are "build.x: ..."
 * r.finish();                                     // unknown fields, in this object and the nested ones
 * if (!r.problems().isEmpty()) ...
 * }</pre>
 */
public final class SpecReader {

    private final JsonNode node;
    private final String path;
    private final List<String> problems;
    private final Set<String> known = new LinkedHashSet<>();
    private final List<SpecReader> children = new ArrayList<>();

    private SpecReader(JsonNode node, String path, List<String> problems) {
        this.node = node;
        this.path = path;
        this.problems = problems;
    }

    /** A reader of {@code json}, which must be an object (otherwise one problem names the body). */
    public static SpecReader of(JsonNode json) {
        List<String> problems = new ArrayList<>();
        if (json == null || !json.isObject()) {
            problems.add("body: a JSON object is required");
        }
        return new SpecReader(json == null ? tools.jackson.databind.node.JsonNodeFactory.instance.objectNode() : json, "",
                problems);
    }

    /** Every problem found so far, in the order found; shared by this reader and its nested readers. */
    public List<String> problems() {
        return problems;
    }

    /** The JSON object being read. */
    public JsonNode json() {
        return node;
    }

    /** The path of {@code field} in this object, as problems name it: {@code build.seed}, {@code chosen[1].content}. */
    public String path(String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    /** Records a problem of {@code field} found by a check beyond the typed reads. */
    public void problem(String field, String message) {
        problems.add(path(field) + ": " + message);
    }

    /** Records a problem of this object as a whole. */
    public void problem(String message) {
        problems.add((path.isEmpty() ? "body" : path) + ": " + message);
    }

    /** Marks fields as known without reading them (read elsewhere, e.g. by the platform). */
    public void allow(String... fields) {
        known.addAll(List.of(fields));
    }

    /** Whether {@code field} is present and not null. */
    public boolean has(String field) {
        known.add(field);
        JsonNode n = node.get(field);
        return n != null && !n.isNull();
    }

    /** The field's JSON as it is (any type), or null when absent. */
    public JsonNode raw(String field) {
        return value(field);
    }

    /** A string field, or null when absent. */
    public String string(String field) {
        JsonNode n = value(field);
        if (n == null) {
            return null;
        }
        if (!n.isString()) {
            return wrong(field, "a string", n);
        }
        return n.stringValue();
    }

    /** A string field, or {@code fallback} when absent or wrong (a problem is recorded when wrong). */
    public String string(String field, String fallback) {
        String s = string(field);
        return s == null ? fallback : s;
    }

    /** A string field that must be present and not blank; {@code what} says what it names. */
    public String requiredString(String field, String what) {
        JsonNode n = value(field);
        if (n == null || (n.isString() && n.stringValue().isBlank())) {
            problem(field, what + " is required");
            return null;
        }
        return string(field);
    }

    /** A string field that must be one of {@code allowed} (compared exactly), or {@code fallback} when absent. */
    public String oneOf(String field, List<String> allowed, String fallback) {
        String s = string(field);
        if (s == null) {
            return value(field) == null ? fallback : null;
        }
        if (!allowed.contains(s)) {
            problem(field, "must be one of " + String.join(", ", allowed) + ", got '" + abbreviate(s) + "'");
            return null;
        }
        return s;
    }

    /** An integer field in [min, max], or null when absent (or wrong, with a problem). */
    public Long integer(String field, long min, long max) {
        JsonNode n = value(field);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < min || n.longValue() > max) {
            problem(field, "must be an integer between " + min + " and " + max + ", got " + abbreviate(n.toString()));
            return null;
        }
        return n.longValue();
    }

    /**
     * An int field of any value, or null when absent (or wrong, with a problem): for fields whose range the caller
     * checks itself, with its own message.
     */
    public Integer anyInt(String field) {
        JsonNode n = value(field);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber()) {
            return wrong(field, "an integer", n);
        }
        if (!n.canConvertToInt()) {
            problem(field, "must be an integer between " + Integer.MIN_VALUE + " and " + Integer.MAX_VALUE + ", got "
                    + abbreviate(n.toString()));
            return null;
        }
        return n.intValue();
    }

    /** A finite number of any value, or null when absent (or wrong, with a problem). */
    public Double anyNumber(String field) {
        JsonNode n = value(field);
        if (n == null) {
            return null;
        }
        if (!n.isNumber()) {
            return wrong(field, "a number", n);
        }
        if (!Double.isFinite(n.doubleValue())) {
            problem(field, "must be a finite number, got " + n.doubleValue());
            return null;
        }
        return n.doubleValue();
    }

    /** An int field in [min, max], or {@code fallback} when absent or wrong (a problem is recorded when wrong). */
    public int integer(String field, int min, int max, int fallback) {
        Long v = integer(field, (long) min, (long) max);
        return v == null ? fallback : v.intValue();
    }

    /** A long field (any long), or {@code fallback} when absent or wrong. */
    public long longInteger(String field, long fallback) {
        JsonNode n = value(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isIntegralNumber()) {
            wrong(field, "an integer", n);
            return fallback;
        }
        if (!n.canConvertToLong()) {
            problem(field, "must be an integer between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE + ", got "
                    + abbreviate(n.toString()));
            return fallback;
        }
        return n.longValue();
    }

    /** A finite number in [min, max], or null when absent (or wrong, with a problem). */
    public Double number(String field, double min, double max) {
        JsonNode n = value(field);
        if (n == null) {
            return null;
        }
        if (!n.isNumber() || !Double.isFinite(n.doubleValue())) {
            problem(field, "must be a finite number, got " + (n.isNumber() ? String.valueOf(n.doubleValue()) : abbreviate(n.toString())));
            return null;
        }
        double d = n.doubleValue();
        if (d < min || d > max) {
            problem(field, "must be between " + format(min) + " and " + format(max) + ", got " + abbreviate(n.toString()));
            return null;
        }
        return d;
    }

    /** A finite number in [min, max], or {@code fallback} when absent or wrong. */
    public double number(String field, double min, double max, double fallback) {
        Double v = number(field, min, max);
        return v == null ? fallback : v;
    }

    /** A boolean field, or {@code fallback} when absent or wrong. */
    public boolean bool(String field, boolean fallback) {
        JsonNode n = value(field);
        if (n == null) {
            return fallback;
        }
        if (!n.isBoolean()) {
            wrong(field, "true or false", n);
            return fallback;
        }
        return n.booleanValue();
    }

    /** A list of strings (a JSON array of strings), or null when absent or wrong. */
    public List<String> strings(String field) {
        JsonNode n = value(field);
        if (n == null) {
            return null;
        }
        if (!n.isArray()) {
            return wrong(field, "a list of strings", n);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            if (!n.get(i).isString()) {
                problems.add(path(field) + "[" + i + "]: must be a string, got " + abbreviate(n.get(i).toString()));
                return null;
            }
            out.add(n.get(i).stringValue());
        }
        return out;
    }

    /** A nested object's reader (problems named {@code field.x}), or null when absent or not an object. */
    public SpecReader object(String field) {
        JsonNode n = value(field);
        if (n == null) {
            return null;
        }
        if (!n.isObject()) {
            return wrong(field, "an object", n);
        }
        SpecReader child = new SpecReader(n, path(field), problems);
        children.add(child);
        return child;
    }

    /** Readers of the objects of an array field (problems named {@code field[i].x}), or null when absent or wrong. */
    public List<SpecReader> objects(String field) {
        JsonNode n = value(field);
        if (n == null) {
            return null;
        }
        if (!n.isArray()) {
            return wrong(field, "a list of objects", n);
        }
        List<SpecReader> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            if (!n.get(i).isObject()) {
                problems.add(path(field) + "[" + i + "]: must be an object, got " + abbreviate(n.get(i).toString()));
                return null;
            }
            out.add(new SpecReader(n.get(i), path(field) + "[" + i + "]", problems));
        }
        children.addAll(out);
        return out;
    }

    /**
     * Reports every field of this object (and of the nested objects read through it) that no read asked for,
     * with the fields that are known. Call it once, after all reads.
     */
    public void finish() {
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!known.contains(e.getKey())) {
                problems.add(path(abbreviate(e.getKey())) + ": unknown field"
                        + (known.isEmpty() ? "" : " (known: " + String.join(", ", known) + ")"));
            }
        }
        children.forEach(SpecReader::finish);
    }

    private JsonNode value(String field) {
        known.add(field);
        JsonNode n = node.get(field);
        return n == null || n.isNull() ? null : n;
    }

    private <T> T wrong(String field, String expected, JsonNode got) {
        problem(field, "must be " + expected + ", got " + abbreviate(got.toString()));
        return null;
    }

    private static String format(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    /** The first characters of a long value, for problem texts (never half of a surrogate pair). */
    static String abbreviate(String s) {
        if (s.length() <= 60) {
            return s;
        }
        int end = Character.isHighSurrogate(s.charAt(56)) ? 56 : 57;
        return s.substring(0, end) + "...";
    }
}
