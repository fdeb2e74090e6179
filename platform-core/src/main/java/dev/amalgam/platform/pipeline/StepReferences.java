package dev.amalgam.platform.pipeline;

import dev.amalgam.platform.artifact.ArtifactKind;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * The one way a step refers to an earlier step's output: {@code ${steps.NAME.outputs.KIND}} inside any string of
 * its spec, where KIND is the kind of artifact the step published ({@code model}, {@code dataset}, {@code report},
 * {@code checkpoint}). The reference may be the whole string ({@code "model": "${steps.prune.outputs.model}"}) or a
 * part of it (mergekit's {@code "${steps.a.outputs.model}+adapter"}, or a model inside {@code configYaml} text).
 * When the step is submitted every reference is replaced by the artifact's id (on the platform) or its path (in
 * the CLI). Any other {@code ${...}} in a string is an error, so a typo never reaches a job as a literal name.
 */
public final class StepReferences {

    /** What a step name must look like: it is part of references and of output directory names. */
    public static final Pattern STEP_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");

    private static final Pattern REFERENCE = Pattern.compile("\\$\\{steps\\.([A-Za-z0-9][A-Za-z0-9_-]{0,63})\\.outputs\\.([a-z]+)}");
    private static final Pattern ANY_EXPRESSION = Pattern.compile("\\$\\{[^}]*}?");

    private StepReferences() {
    }

    /** One reference: the step and the kind of its output. */
    public record Reference(String step, ArtifactKind kind) {
        /** The reference as written in a spec. */
        public String text() {
            return "${steps." + step + ".outputs." + kind.name().toLowerCase(Locale.ROOT) + "}";
        }
    }

    /** The text of a reference to {@code step}'s output of {@code kind}. */
    public static String of(String step, ArtifactKind kind) {
        return new Reference(step, kind).text();
    }

    /**
     * Every reference in the strings of {@code spec}; a malformed {@code ${...}} is a problem under {@code field}
     * (with the JSON path inside the spec).
     */
    public static Set<Reference> find(JsonNode spec, String field, List<String> problems) {
        Set<Reference> out = new LinkedHashSet<>();
        walk(spec, field, (path, s) -> {
            Matcher any = ANY_EXPRESSION.matcher(s);
            while (any.find()) {
                Matcher m = REFERENCE.matcher(any.group());
                Reference r = m.matches() ? reference(m) : null;
                if (r == null) {
                    problems.add(path + ": '" + abbreviate(any.group()) + "' is not a step reference; write ${steps.NAME.outputs.KIND}"
                            + " with KIND one of model, dataset, report, checkpoint");
                } else {
                    out.add(r);
                }
            }
            return s;
        });
        return out;
    }

    /** The references in one string (well-formed ones only). */
    public static List<Reference> in(String s) {
        List<Reference> out = new ArrayList<>();
        Matcher m = REFERENCE.matcher(s);
        while (m.find()) {
            Reference r = reference(m);
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    /** Whether {@code s} holds a step reference. */
    public static boolean holdsReference(String s) {
        return s != null && !in(s).isEmpty();
    }

    /** A copy of {@code spec} with every reference replaced by {@code values.get(reference)}. */
    public static JsonNode resolve(JsonNode spec, Map<Reference, String> values) {
        return walk(spec.deepCopy(), "", (path, s) -> {
            Matcher m = REFERENCE.matcher(s);
            StringBuilder b = new StringBuilder();
            while (m.find()) {
                Reference r = reference(m);
                String value = r == null ? null : values.get(r);
                if (value == null) {
                    throw new IllegalArgumentException(path + ": " + m.group() + " has no value");
                }
                m.appendReplacement(b, Matcher.quoteReplacement(value));
            }
            m.appendTail(b);
            return b.toString();
        });
    }

    private static Reference reference(Matcher m) {
        String kind = m.group(2).toUpperCase(Locale.ROOT);
        for (ArtifactKind k : ArtifactKind.values()) {
            if (k.name().equals(kind)) {
                return new Reference(m.group(1), k);
            }
        }
        return null;
    }

    /** Applies {@code f} to every string value, in place; returns the node (replaced when it is itself a string). */
    private static JsonNode walk(JsonNode n, String path, BiFunction<String, String, String> f) {
        if (n.isString()) {
            return StringNode.valueOf(f.apply(path, n.stringValue()));
        }
        if (n instanceof ObjectNode o) {
            for (String name : List.copyOf(o.propertyNames())) {
                o.set(name, walk(o.get(name), path.isEmpty() ? name : path + "." + name, f));
            }
        } else if (n instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                a.set(i, walk(a.get(i), path + "[" + i + "]", f));
            }
        }
        return n;
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
