package dev.amalgam.fusion.build;

import dev.amalgam.modelengine.text.ChatMessage;
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

/**
 * Reads the input of data construction, one prompt a line:
 * {@code {"prompt": "..." | [messages], "source_responses": [r, ...], "target_responses": [r, ...]?}} where r is a
 * string or {@code {"text": "...", "score": 1.5}}.
 */
public final class CandidatesJsonl {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private CandidatesJsonl() {
    }

    public static List<PromptCandidates> readAll(Path file) {
        List<PromptCandidates> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = r.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    out.add(parse(MAPPER.readTree(line)));
                } catch (JacksonException | IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + " line " + number + ": " + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
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
