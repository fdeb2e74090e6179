package dev.amalgam.fusion.build;

import dev.amalgam.fusion.data.JsonLines;
import dev.amalgam.modelengine.text.ChatMessage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Reads the input of data construction, one prompt a line:
 * {@code {"prompt": "..." | [messages], "source_responses": [r, ...], "target_responses": [r, ...]?}} where r is a
 * string or {@code {"text": "...", "score": 1.5}}.
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
        JsonNode p = o.path("prompt");
        List<ChatMessage> prompt = new ArrayList<>();
        if (p.isString()) {
            prompt.add(ChatMessage.user(p.asString()));
        } else if (p.isArray()) {
            for (JsonNode m : p.values()) {
                prompt.add(new ChatMessage(m.path("role").asString(), m.path("content").asString()));
            }
        } else {
            throw new IllegalArgumentException("\"prompt\" must be a string or a list of messages");
        }
        return new PromptCandidates(prompt, candidates(o.path("source_responses"), "source_responses"),
                o.has("target_responses") ? candidates(o.path("target_responses"), "target_responses") : List.of());
    }

    private static List<Candidate> candidates(JsonNode a, String field) {
        if (!a.isArray()) {
            throw new IllegalArgumentException("\"" + field + "\" must be a list");
        }
        List<Candidate> out = new ArrayList<>();
        for (JsonNode c : a.values()) {
            if (c.isString()) {
                out.add(new Candidate(c.asString(), null));
            } else if (c.isObject() && c.path("text").isString()) {
                JsonNode s = c.get("score");
                if (s != null && !s.isNull() && !s.isNumber()) {
                    throw new IllegalArgumentException("a score in \"" + field + "\" must be a number");
                }
                out.add(new Candidate(c.path("text").asString(), s == null || s.isNull() ? null : s.asDouble()));
            } else {
                throw new IllegalArgumentException("a response in \"" + field + "\" must be a string or {text, score}");
            }
        }
        return out;
    }
}
