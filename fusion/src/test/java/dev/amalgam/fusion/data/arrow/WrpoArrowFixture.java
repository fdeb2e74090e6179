package dev.amalgam.fusion.data.arrow;

import static dev.amalgam.fusion.data.arrow.ArrowTestWriter.dbl;
import static dev.amalgam.fusion.data.arrow.ArrowTestWriter.list;
import static dev.amalgam.fusion.data.arrow.ArrowTestWriter.struct;
import static dev.amalgam.fusion.data.arrow.ArrowTestWriter.utf8;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Three WRPO records as {@code datasets.save_to_disk} writes them (Arrow IPC stream): {@code prompt_id}, {@code
 * prompt} a message struct, {@code chosen}/{@code rejected} lists of message structs, a {@code score} double.
 */
public final class WrpoArrowFixture {

    /** The rows as JSON, what the reader must give back. */
    public static final List<String> ROWS = List.of(
            """
            {"prompt_id":"a","prompt":{"content":"Hi there","role":"user"},\
            "chosen":[{"content":"Hello!","role":"assistant"},{"content":"Hey.","role":"assistant"}],\
            "rejected":[{"content":"Go away.","role":"assistant"}],"score":8.5}""",
            """
            {"prompt_id":null,"prompt":{"content":"Say yes","role":"user"},\
            "chosen":[{"content":"Yes","role":"assistant"}],\
            "rejected":[{"content":"No","role":"assistant"}],"score":null}""",
            """
            {"prompt_id":"c","prompt":{"content":"Q","role":"user"},\
            "chosen":[{"content":"A1","role":"assistant"},{"content":"A2","role":"assistant"}],\
            "rejected":[{"content":"A3","role":"assistant"}],"score":-0.25}""");

    public static final List<ArrowTestWriter.Field> FIELDS = List.of(utf8("prompt_id"),
            struct("prompt", utf8("content"), utf8("role")),
            list("chosen", struct("item", utf8("content"), utf8("role"))),
            list("rejected", struct("item", utf8("content"), utf8("role"))), dbl("score"));

    private WrpoArrowFixture() {
    }

    private static Map<String, Object> msg(String content, String role) {
        Map<String, Object> m = new HashMap<>();
        m.put("content", content);
        m.put("role", role);
        return m;
    }

    /** The rows as the writer's Java values; with {@code nullContentRow} >= 0 that row's chosen[1].content is null. */
    public static List<Map<String, Object>> rows(int nullContentRow) {
        List<Map<String, Object>> rows = new ArrayList<>();
        rows.add(row("a", msg("Hi there", "user"), List.of(msg("Hello!", "assistant"), msg("Hey.", "assistant")),
                List.of(msg("Go away.", "assistant")), 8.5));
        rows.add(row(null, msg("Say yes", "user"), List.of(msg("Yes", "assistant")), List.of(msg("No", "assistant")),
                null));
        rows.add(row("c", msg("Q", "user"), List.of(msg("A1", "assistant"), msg("A2", "assistant")),
                List.of(msg("A3", "assistant")), -0.25));
        if (nullContentRow >= 0) {
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> chosen = new ArrayList<>((List<Map<String, Object>>) rows.get(nullContentRow)
                    .get("chosen"));
            chosen.set(1, msg(null, "assistant"));
            rows.get(nullContentRow).put("chosen", chosen);
        }
        return rows;
    }

    private static Map<String, Object> row(String id, Object prompt, Object chosen, Object rejected, Double score) {
        Map<String, Object> r = new HashMap<>();
        r.put("prompt_id", id);
        r.put("prompt", prompt);
        r.put("chosen", chosen);
        r.put("rejected", rejected);
        r.put("score", score);
        return r;
    }

    public static void write(Path file, boolean continuation, int batchRows, int nullContentRow) {
        ArrowTestWriter.write(file, FIELDS, rows(nullContentRow), batchRows, continuation);
    }
}
