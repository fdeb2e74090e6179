package dev.amalgam.fusion.fusechat.repr;

import dev.amalgam.fusion.data.JsonLines;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** A JSONL chat corpus, one {@link ChatSample} per non-blank line, streamed; a bad line fails with its number. */
public final class ChatCorpus {

    private ChatCorpus() {
    }

    /** Streams every sample of {@code jsonl} to {@code sink}, in file order. */
    public static void read(Path jsonl, Consumer<ChatSample> sink) {
        long[] index = {0};
        JsonLines.read(jsonl, row -> sink.accept(ChatSample.parse(row, index[0]++)));
    }

    /** Every sample of a (small) corpus. */
    public static List<ChatSample> readAll(Path jsonl) {
        List<ChatSample> out = new ArrayList<>();
        read(jsonl, out::add);
        return out;
    }

    /** The number of non-blank lines, for progress. */
    public static long count(Path jsonl) {
        try (BufferedReader r = Files.newBufferedReader(jsonl, StandardCharsets.UTF_8)) {
            return r.lines().filter(l -> !l.isBlank()).count();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jsonl, e);
        }
    }
}
