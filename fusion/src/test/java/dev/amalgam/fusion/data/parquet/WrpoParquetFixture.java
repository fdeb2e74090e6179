package dev.amalgam.fusion.data.parquet;

import static dev.amalgam.fusion.data.parquet.ParquetTestWriter.OPTIONAL;
import static dev.amalgam.fusion.data.parquet.ParquetTestWriter.column;
import static dev.amalgam.fusion.data.parquet.ParquetTestWriter.dbl;
import static dev.amalgam.fusion.data.parquet.ParquetTestWriter.group;
import static dev.amalgam.fusion.data.parquet.ParquetTestWriter.list;
import static dev.amalgam.fusion.data.parquet.ParquetTestWriter.string;

import java.nio.file.Path;
import java.util.List;

/**
 * Four WRPO records as the hub publishes them, in Parquet: {@code prompt_id}, {@code prompt} a message struct,
 * {@code chosen}/{@code rejected} lists of message structs, {@code scores} a list of doubles. The levels below are
 * worked out by hand from the Dremel rules (max definition level: chosen 1, list 2, element 3, content 4).
 */
public final class WrpoParquetFixture {

    /** The rows as JSON, what the reader must give back. */
    public static final List<String> ROWS = List.of(
            """
            {"prompt_id":"p0","prompt":{"content":"Translate: kiitos","role":"user"},\
            "chosen":[{"content":"Thank you.","role":"assistant"},{"content":"Thanks!","role":"assistant"}],\
            "rejected":[{"content":"Hello.","role":"assistant"}],"scores":[0.5,-1.25,2.0]}""",
            """
            {"prompt_id":"p1","prompt":{"content":"Say hi","role":"user"},\
            "chosen":[{"content":"Hi","role":"assistant"}],\
            "rejected":[{"content":"Bye","role":"assistant"}],"scores":[null,3.5]}""",
            """
            {"prompt_id":null,"prompt":{"content":"Count to 2","role":"user"},\
            "chosen":[{"content":"1 2","role":"assistant"},{"content":"1, 2","role":"assistant"}],\
            "rejected":[{"content":"3","role":"assistant"}],"scores":null}""",
            """
            {"prompt_id":"p3","prompt":{"content":"Say hi","role":"user"},\
            "chosen":[{"content":"Hello!","role":"assistant"}],\
            "rejected":[{"content":"No.","role":"assistant"}],"scores":[]}""");

    private WrpoParquetFixture() {
    }

    private static ParquetTestWriter.Field message() {
        return group("element", OPTIONAL, null, string("content", OPTIONAL), string("role", OPTIONAL));
    }

    /** Writes {@link #ROWS}; with {@code nullContentRow} >= 0 that row's chosen[0].content is null instead. */
    public static void write(Path file, ParquetTestWriter.Codec codec, boolean pageV2, int rowsPerPage,
            int nullContentRow) {
        List<ParquetTestWriter.Field> fields = List.of(string("prompt_id", OPTIONAL),
                group("prompt", OPTIONAL, null, string("content", OPTIONAL), string("role", OPTIONAL)),
                list("chosen", message()), list("rejected", message()), list("scores", dbl("element", OPTIONAL)));
        int[] one = {0, 0, 0, 0};
        int[] chosenRep = {0, 1, 0, 0, 1, 0};
        int[] chosenDef = {4, 4, 4, 4, 4, 4};
        Object[] chosenContent = {"Thank you.", "Thanks!", "Hi", "1 2", "1, 2", "Hello!"};
        if (nullContentRow >= 0) {
            int entry = new int[] {0, 2, 3, 5}[nullContentRow];
            chosenDef = chosenDef.clone();
            chosenDef[entry] = 3; // the element is there, its content is null
            List<Object> kept = new java.util.ArrayList<>(List.of(chosenContent));
            kept.remove(entry);
            chosenContent = kept.toArray();
        }
        List<ParquetTestWriter.Column> columns = List.of(
                column(one, new int[] {1, 1, 0, 1}, false, "p0", "p1", "p3"),
                // prompt.content dictionary-encoded (3 distinct of 4: a bit width of 2), PLAIN after its first
                // page (pyarrow's fallback); roles dictionary-encoded throughout
                ParquetTestWriter.fallback(one, new int[] {2, 2, 2, 2}, "Translate: kiitos", "Say hi", "Count to 2",
                        "Say hi"),
                column(one, new int[] {2, 2, 2, 2}, true, "user", "user", "user", "user"),
                column(chosenRep, chosenDef, false, chosenContent),
                column(chosenRep, new int[] {4, 4, 4, 4, 4, 4}, true, "assistant", "assistant", "assistant",
                        "assistant", "assistant", "assistant"),
                column(one, new int[] {4, 4, 4, 4}, false, "Hello.", "Bye", "3", "No."),
                column(one, new int[] {4, 4, 4, 4}, true, "assistant", "assistant", "assistant", "assistant"),
                // [0.5, -1.25, 2.0], [null, 3.5], null, []
                column(new int[] {0, 1, 1, 0, 1, 0, 0}, new int[] {3, 3, 3, 2, 3, 0, 1}, false, 0.5, -1.25, 2.0,
                        3.5));
        ParquetTestWriter.write(file, fields, columns, 4, codec, pageV2, rowsPerPage);
    }
}
