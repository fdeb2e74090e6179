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

    /** One record from its JSON object. */
    public static PreferenceRecord parse(JsonNode line) {
        if (!line.isObject()) {
            throw new IllegalArgumentException("a record must be a JSON object");
        }
        JsonNode p = line.path("prompt");
        List<ChatMessage> prompt = new ArrayList<>();
        if (p.isString()) {
            prompt.add(ChatMessage.user(p.asString()));
        } else if (p.isArray()) {
            for (JsonNode m : p.values()) {
                prompt.add(message(m));
            }
        } else {
            throw new IllegalArgumentException("\"prompt\" must be a string or a list of messages");
        }
        Split split = line.has("split") ? Split.fromId(line.path("split").asString()) : Split.PREFERENCE;
        return new PreferenceRecord(prompt, responses(line, "chosen"), split == Split.SFT && !line.has("rejected")
                ? List.of() : responses(line, "rejected"), split);
    }

    private static List<String> responses(JsonNode line, String field) {
        JsonNode a = line.path(field);
        if (!a.isArray()) {
            throw new IllegalArgumentException("\"" + field + "\" must be a list of responses");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode r : a.values()) {
            if (r.isString()) {
                out.add(r.asString());
            } else if (r.isObject()) {
                out.add(message(r).content());
            } else if (r.isArray() && !r.isEmpty()) {
                out.add(message(r.get(r.size() - 1)).content()); // conversational form: the last turn is the answer
            } else {
                throw new IllegalArgumentException("a response in \"" + field + "\" must be a string, a message or a"
                        + " non-empty message list");
            }
        }
        return out;
    }

    private static ChatMessage message(JsonNode m) {
        if (!m.isObject() || !m.path("role").isString() || !m.path("content").isString()) {
            throw new IllegalArgumentException("a message needs string \"role\" and \"content\"");
        }
        return new ChatMessage(m.path("role").asString(), m.path("content").asString());
    }

    /** The JSON object of one record (plain-string prompt when it is a single user message). */
    public static ObjectNode toJson(PreferenceRecord r) {
        ObjectNode o = MAPPER.createObjectNode();
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
