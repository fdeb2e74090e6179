package dev.amalgam.platform.web;

import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.error.ApiException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Checks every job submission makes the same way: its Idempotency-Key, text the registry can store (before anything
 * is read), and the names of the artifacts a job will publish.
 */
public final class SpecChecks {

    /**
     * The prefix of the idempotency keys the pipeline schedulers give their steps' jobs
     * ({@code pipeline:<pipeline id>:<step name>}). A client's key of that form could take a step's place before the
     * step is submitted, so clients may not use it.
     */
    public static final String RESERVED_KEY_PREFIX = "pipeline:";

    private SpecChecks() {
    }

    /**
     * Throws a 422 when a client's Idempotency-Key (null: none) is blank, longer than 255 characters, or starts with
     * {@value #RESERVED_KEY_PREFIX} in any letter case (reserved for the steps of pipelines).
     */
    public static void checkIdempotencyKey(String idempotencyKey) {
        if (idempotencyKey == null) {
            return;
        }
        if (idempotencyKey.isBlank() || idempotencyKey.length() > 255) {
            throw ApiException.invalid(List.of("Idempotency-Key: must be 1-255 characters"));
        }
        if (idempotencyKey.regionMatches(true, 0, RESERVED_KEY_PREFIX, 0, RESERVED_KEY_PREFIX.length())) {
            throw ApiException.invalid(List.of("Idempotency-Key: keys starting with '" + RESERVED_KEY_PREFIX
                    + "' are reserved for the steps of pipelines; choose another key"));
        }
    }

    /**
     * Throws a 422 naming every string of the spec (value or field name) that holds a NUL character (PostgreSQL
     * text cannot) or an unpaired UTF-16 surrogate (not Unicode). Called first, so no such string reaches a query.
     */
    public static void requireStorableText(JsonNode spec) {
        List<String> errors = new ArrayList<>();
        walk(spec, "", errors);
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
    }

    /**
     * Adds a problem under {@code field} for each name a job would publish that breaks the artifact name rules
     * ({@link ArtifactService#isValidName}); derived names such as {@code {name}-report} must fit too.
     *
     * @param names what the job publishes, by what it is (e.g. "the model" -> name, "the report" -> name-report)
     */
    public static void checkOutputNames(String field, Map<String, String> names, List<String> errors) {
        names.forEach((what, name) -> {
            if (!ArtifactService.isValidName(name)) {
                errors.add(field + ": '" + abbreviate(name) + "', the name of " + what + ", must be "
                        + ArtifactService.NAME_RULE);
            }
        });
    }

    private static void walk(JsonNode n, String path, List<String> errors) {
        if (n.isString()) {
            String problem = textProblem(n.stringValue());
            if (problem != null) {
                errors.add((path.isEmpty() ? "body" : path) + ": " + problem);
            }
        } else if (n.isObject()) {
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                String problem = textProblem(e.getKey());
                if (problem != null) {
                    errors.add((path.isEmpty() ? "body" : path) + ": a field name " + problem);
                    continue;
                }
                walk(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), errors);
            }
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                walk(n.get(i), path + "[" + i + "]", errors);
            }
        }
    }

    /** Why {@code s} cannot be stored as text, or null. */
    static String textProblem(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0) {
                return "must not contain the NUL character (U+0000)";
            }
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return "must not contain an unpaired UTF-16 surrogate";
            }
        }
        return null;
    }

    /** The first characters of a long value, for problem texts (never half of a surrogate pair). */
    private static String abbreviate(String s) {
        if (s.length() <= 60) {
            return s;
        }
        int end = Character.isHighSurrogate(s.charAt(56)) ? 56 : 57;
        return s.substring(0, end) + "...";
    }
}
