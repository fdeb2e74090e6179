package dev.amalgam.fusion.data;

import dev.amalgam.modelengine.text.ChatMessage;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads and writes WRPO datasets as JSONL, one record a line, streamed (never the whole file in memory at once
 * unless {@link #readAll} is asked for).
 *
 * <p>Line format: {@code {"prompt": "..." | [messages], "chosen": [r, r], "rejected": [r], "split": "sft"?}} where
 * a response r is a string, a message object {@code {"role": "assistant", "content": "..."}}, or a message list
 * whose last message is the answer (the TRL conversational form). {@code split} defaults to {@code preference}.
 *
 * <pre>{@code
 * PreferenceJsonl.write(file, records);
 * List<PreferenceRecord> back = PreferenceJsonl.readAll(file);
 * }</pre>
 */
public final class PreferenceJsonl {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private PreferenceJsonl() {
    }

    /** Every record of the file; a bad line fails with its line number. */
    public static List<PreferenceRecord> readAll(Path file) {
        List<PreferenceRecord> out = new ArrayList<>();
        read(file, out::add);
        return out;
    }

    /** Streams the records of the file to {@code sink}; blank lines are skipped. */
    public static void read(Path file, Consumer<PreferenceRecord> sink) {
        JsonLines.read(file, json -> sink.accept(parse(json)));
    }

    /**
     * One record from its JSON object. The prompt is a string, one message object (the WRPO authors' published form,
     * {@code {"content": ..., "role": "user"}}) or a list of messages; {@code prompt_id} (string or integer) is kept.
     * A problem names the field, e.g. {@code "chosen"[1]: a message needs a string "content"}.
     */
    public static PreferenceRecord parse(JsonNode line) {
        if (!line.isObject()) {
            throw new IllegalArgumentException("a record must be a JSON object");
        }
        List<ChatMessage> prompt = prompt(line);
        Split split;
        try {
            split = line.has("split") ? Split.fromId(line.path("split").asString()) : Split.PREFERENCE;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"split\": " + e.getMessage(), e);
        }
        String promptId = promptId(line);
        return new PreferenceRecord(prompt, responses(line, "chosen"), split == Split.SFT && !line.has("rejected")
                ? List.of() : responses(line, "rejected"), split, promptId);
    }

    /** The {@code prompt} field as messages: a string, a message object, or a list of messages. */
    public static List<ChatMessage> prompt(JsonNode line) {
        JsonNode p = line.path("prompt");
        List<ChatMessage> prompt = new ArrayList<>();
        if (p.isString()) {
            prompt.add(ChatMessage.user(p.asString()));
        } else if (p.isObject()) {
            prompt.add(message(p, "\"prompt\""));
        } else if (p.isArray() && !p.isEmpty()) {
            int i = 0;
            for (JsonNode m : p.values()) {
                prompt.add(message(m, "\"prompt\"[" + i++ + "]"));
            }
        } else {
            throw new IllegalArgumentException("\"prompt\" must be a string, a message object or a non-empty list of "
                    + "messages" + (p.isMissingNode() ? " (missing)" : ""));
        }
        return prompt;
    }

    /** {@code prompt_id} as text (a string or an integer), or null when absent. */
    public static String promptId(JsonNode line) {
        JsonNode id = line.get("prompt_id");
        if (id == null || id.isNull()) {
            return null;
        }
        if (id.isString() || id.isIntegralNumber()) {
            return id.asString();
        }
        throw new IllegalArgumentException("\"prompt_id\" must be a string or an integer");
    }

    private static List<String> responses(JsonNode line, String field) {
        JsonNode a = line.path(field);
        if (!a.isArray()) {
            throw new IllegalArgumentException("\"" + field + "\" must be a list of responses"
                    + (a.isMissingNode() ? " (missing)" : ""));
        }
        List<String> out = new ArrayList<>();
        int i = 0;
        for (JsonNode r : a.values()) {
            String where = "\"" + field + "\"[" + i++ + "]";
            if (r.isString()) {
                out.add(r.asString());
            } else if (r.isObject()) {
                out.add(message(r, where).content());
            } else if (r.isArray() && !r.isEmpty()) {
                // conversational form: the last turn is the answer
                out.add(message(r.get(r.size() - 1), where + "[" + (r.size() - 1) + "]").content());
            } else {
                throw new IllegalArgumentException(where + ": a response must be a string, a message or a"
                        + " non-empty message list");
            }
        }
        return out;
    }

    private static ChatMessage message(JsonNode m, String where) {
        if (!m.isObject()) {
            throw new IllegalArgumentException(where + ": a message must be an object with \"role\" and \"content\"");
        }
        if (!m.path("role").isString()) {
            throw new IllegalArgumentException(where + ": a message needs a string \"role\"");
        }
        if (!m.path("content").isString()) {
            throw new IllegalArgumentException(where + ": a message needs a string \"content\"");
        }
        return new ChatMessage(m.path("role").asString(), m.path("content").asString());
    }

    /** The JSON object of one record (plain-string prompt when it is a single user message). */
    public static ObjectNode toJson(PreferenceRecord r) {
        ObjectNode o = MAPPER.createObjectNode();
        if (r.promptId() != null) {
            o.put("prompt_id", r.promptId());
        }
        if (r.prompt().size() == 1 && r.prompt().get(0).role().equals("user")) {
            o.put("prompt", r.prompt().get(0).content());
        } else {
            ArrayNode msgs = o.putArray("prompt");
            r.prompt().forEach(m -> msgs.addObject().put("role", m.role()).put("content", m.content()));
        }
        ArrayNode chosen = o.putArray("chosen");
        r.chosen().forEach(chosen::add);
        ArrayNode rejected = o.putArray("rejected");
        r.rejected().forEach(rejected::add);
        if (r.split() == Split.SFT) {
            o.put("split", Split.SFT.id());
        }
        return o;
    }

    /** Writes the records (one compact JSON object a line) to {@code file}, replacing it. */
    public static void write(Path file, Iterable<PreferenceRecord> records) {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (PreferenceRecord r : records) {
                w.write(MAPPER.writeValueAsString(toJson(r)));
                w.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
