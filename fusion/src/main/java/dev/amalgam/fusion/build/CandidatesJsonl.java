package dev.amalgam.fusion.build;

import dev.amalgam.fusion.data.JsonLines;
import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.modelengine.text.ChatMessage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Reads the input of data construction, one prompt a line:
 * {@code {"prompt_id"?, "prompt": "..." | {message} | [messages], "source_responses": [r, ...],
 * "target_responses": [r, ...]?}} where r is a string or {@code {"text": "...", "score": 1.5, "source": "gemma"}}
 * (score and source optional).
 */
public final class CandidatesJsonl {


    private CandidatesJsonl() {
    }

    public static List<PromptCandidates> readAll(Path file) {
        List<PromptCandidates> out = new ArrayList<>();
        JsonLines.read(file, json -> out.add(parse(json)));
        return out;
    }

    static PromptCandidates parse(JsonNode o) {
        if (!o.isObject()) {
            throw new IllegalArgumentException("a line must be a JSON object");
        }
        List<ChatMessage> prompt = PreferenceJsonl.prompt(o);
        return new PromptCandidates(prompt, candidates(o.path("source_responses"), "source_responses"),
                o.has("target_responses") ? candidates(o.path("target_responses"), "target_responses") : List.of(),
                PreferenceJsonl.promptId(o));
    }

    private static List<Candidate> candidates(JsonNode a, String field) {
        if (!a.isArray()) {
            throw new IllegalArgumentException("\"" + field + "\" must be a list" + (a.isMissingNode() ? " (missing)" : ""));
        }
        List<Candidate> out = new ArrayList<>();
        int i = 0;
        for (JsonNode c : a.values()) {
            String where = "\"" + field + "\"[" + i++ + "]";
            if (c.isString()) {
                out.add(new Candidate(c.asString(), null));
            } else if (c.isObject() && c.path("text").isString()) {
                JsonNode s = c.get("score");
                if (s != null && !s.isNull() && !s.isNumber()) {
                    throw new IllegalArgumentException(where + ".score must be a number");
                }
                JsonNode src = c.get("source");
                if (src != null && !src.isNull() && !src.isString()) {
                    throw new IllegalArgumentException(where + ".source must be a string");
                }
                out.add(new Candidate(c.path("text").asString(), s == null || s.isNull() ? null : s.asDouble(),
                        src == null || src.isNull() ? null : src.asString()));
            } else {
                throw new IllegalArgumentException(where + ": a response must be a string or {text, score?, source?}");
            }
        }
        return out;
    }
}
