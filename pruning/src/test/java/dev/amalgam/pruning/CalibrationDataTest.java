package dev.amalgam.pruning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.modelengine.eval.TokenChunks;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Calibration sampling, joining and chunking. */
class CalibrationDataTest {

    @TempDir
    Path tmp;

    @Test
    void pickIsASeededSampleWithoutRepeats() {
        int[] a = CalibrationData.pick(100, 10, 42);
        assertThat(a).hasSize(10).doesNotHaveDuplicates();
        assertThat(Arrays.stream(a).allMatch(i -> i >= 0 && i < 100)).isTrue();
        assertThat(CalibrationData.pick(100, 10, 42)).isEqualTo(a);
        assertThat(CalibrationData.pick(100, 10, 43)).isNotEqualTo(a);
        assertThat(CalibrationData.pick(5, 10, 42)).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void inputIdRowsAreConcatenatedInDrawOrderAndTheRemainderDropped() {
        Path file = Tiny.write(tmp.resolve("ids.jsonl"),
                "{\"input_ids\": [1, 2, 3]}\n\n{\"input_ids\": [4, 5]}\n{\"input_ids\": [6, 7, 8, 9]}\n");
        TokenChunks all = CalibrationData.load(file, () -> null, 10, 4, 0);
        assertThat(all.chunks()).hasSize(2);
        assertThat(all.chunks().get(0)).containsExactly(1, 2, 3, 4);
        assertThat(all.chunks().get(1)).containsExactly(5, 6, 7, 8); // 9 is the dropped remainder
        int[] order = CalibrationData.pick(3, 2, 5);
        int[][] rows = {{1, 2, 3}, {4, 5}, {6, 7, 8, 9}};
        int[] expected = Arrays.copyOf(rows[order[0]], rows[order[0]].length + rows[order[1]].length);
        System.arraycopy(rows[order[1]], 0, expected, rows[order[0]].length, rows[order[1]].length);
        TokenChunks two = CalibrationData.load(file, () -> null, 2, 2, 5);
        int[] flat = two.chunks().stream().flatMapToInt(Arrays::stream).toArray();
        assertThat(flat).containsExactly(Arrays.copyOf(expected, expected.length / 2 * 2));
    }

    @Test
    void textRowsAreJoinedWithBlankLinesAndTokenisedOnce() {
        Path model = Tiny.llama(tmp.resolve("m"));
        Path file = Tiny.write(tmp.resolve("t.jsonl"), "{\"text\": \"alpha beta\"}\n{\"text\": \"gamma\"}\n");
        try (TextTokenizer tok = TextTokenizer.load(model)) {
            TokenChunks chunks = CalibrationData.load(file, () -> tok, 2, 5, 0);
            int[] stream = tok.encode("alpha beta\n\ngamma", true); // BOS + bytes
            assertThat(chunks.chunks()).hasSize(stream.length / 5);
            assertThat(chunks.chunks().get(0)).containsExactly(Arrays.copyOf(stream, 5));
            assertThat(chunks.chunks().get(1)).containsExactly(Arrays.copyOfRange(stream, 5, 10));
        }
    }

    @Test
    void badRowsAreRejectedWithTheirLine() {
        Path mixed = Tiny.write(tmp.resolve("mixed.jsonl"), "{\"text\": \"a\"}\n{\"input_ids\": [1, 2]}\n");
        assertThatThrownBy(() -> CalibrationData.load(mixed, () -> null, 10, 2, 0)).hasMessageContaining("mixes");
        Path broken = Tiny.write(tmp.resolve("broken.jsonl"), "{\"input_ids\": [1, 2]}\n{oops\n");
        assertThatThrownBy(() -> CalibrationData.load(broken, () -> null, 10, 2, 0)).hasMessageContaining("line 2");
        Path empty = Tiny.write(tmp.resolve("empty.jsonl"), "\n");
        assertThatThrownBy(() -> CalibrationData.load(empty, () -> null, 10, 2, 0)).hasMessageContaining("no rows");
    }
}
