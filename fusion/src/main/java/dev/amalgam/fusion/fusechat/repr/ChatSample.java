package dev.amalgam.fusion.fusechat.repr;

import dev.amalgam.modelengine.text.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * One conversation of a chat corpus, in the roles of Hugging Face chat templates. Read from either form:
 * ShareGPT ({@code {"id", "conversations": [{"from": "human" | "gpt" | "system", "value"}]}}, the FuseChat
 * authors' corpus) or OpenAI messages ({@code {"id"?, "messages": [{"role", "content"}]}}).
 *
 * @param id the sample's {@code id} (a string or a number), or its 0-based index in the file when it has none
 * @param messages the turns, in order
 */
public record ChatSample(String id, List<ChatMessage> messages) {

    public ChatSample {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("sample " + id + " has no turns");
        }
        messages = List.copyOf(messages);
    }

    /**
     * Parses one corpus line. In the ShareGPT form a leading {@code gpt} turn (after any system turn) is dropped,
     * as the authors' preprocessing skips a first turn that is not from the human.
     *
     * @param index the sample's 0-based index in its file, its id when the line has none
     */
    public static ChatSample parse(JsonNode row, long index) {
        if (!row.isObject()) {
            throw new IllegalArgumentException("a sample must be a JSON object");
        }
        JsonNode idNode = row.path("id");
        String id;
        if (idNode.isMissingNode() || idNode.isNull()) {
            id = String.valueOf(index);
        } else if (idNode.isString() || idNode.isIntegralNumber()) {
            id = idNode.asString();
        } else {
            throw new IllegalArgumentException("id must be a string or an integer, got " + idNode);
        }
        boolean shareGpt = row.has("conversations");
        if (shareGpt == row.has("messages")) {
            throw new IllegalArgumentException("sample " + id + ": needs exactly one of \"conversations\" (ShareGPT) "
                    + "or \"messages\" (OpenAI)");
        }
        List<ChatMessage> messages = new ArrayList<>();
        JsonNode turns = row.path(shareGpt ? "conversations" : "messages");
        if (!turns.isArray() || turns.isEmpty()) {
            throw new IllegalArgumentException("sample " + id + ": " + (shareGpt ? "conversations" : "messages")
                    + " must be a non-empty array");
        }
        for (int i = 0; i < turns.size(); i++) {
            JsonNode turn = turns.get(i);
            String where = "sample " + id + ": " + (shareGpt ? "conversations" : "messages") + "[" + i + "]";
            String roleField = shareGpt ? "from" : "role";
            String textField = shareGpt ? "value" : "content";
            if (!turn.path(roleField).isString()) {
                throw new IllegalArgumentException(where + "." + roleField + " must be a string");
            }
            if (!turn.path(textField).isString()) {
                throw new IllegalArgumentException(where + "." + textField + " must be a string");
            }
            String role = turn.path(roleField).asString();
            if (shareGpt) {
                role = switch (role) {
                    case "human" -> "user";
                    case "gpt" -> "assistant";
                    case "system" -> "system";
                    default -> throw new IllegalArgumentException(where + ".from must be human, gpt or system, got \""
                            + role + "\"");
                };
            } else if (role.isBlank()) {
                throw new IllegalArgumentException(where + ".role must not be blank");
            }
            messages.add(new ChatMessage(role, turn.path(textField).asString()));
        }
        if (shareGpt) {
            int first = 0;
            while (first < messages.size() && messages.get(first).role().equals("system")) {
                first++;
            }
            if (first < messages.size() && messages.get(first).role().equals("assistant")) {
                messages.remove(first);
            }
            if (messages.isEmpty()) {
                throw new IllegalArgumentException("sample " + id + " has no turns after its leading gpt turn");
            }
        }
        return new ChatSample(id, messages);
    }
}
