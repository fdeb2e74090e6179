package dev.amalgam.fusion.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.modelengine.text.ChatMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreferenceJsonlTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsPreferenceAndSftRecords() {
        PreferenceRecord multiTurn = new PreferenceRecord(List.of(ChatMessage.system("Be brief."),
                ChatMessage.user("2+2?")), List.of("4", "four"), List.of("5"), Split.PREFERENCE);
        List<PreferenceRecord> records = List.of(PreferenceRecord.preference("Hi \"there\"\n", "a", "b", "c"),
                multiTurn, PreferenceRecord.sft("Name a colour", "Blue."));
        Path file = dir.resolve("d.jsonl");
        PreferenceJsonl.write(file, records);
        assertThat(PreferenceJsonl.readAll(file)).isEqualTo(records);
    }

    @Test
    void readsTheConversationalAndMessageForms() throws Exception {
        Path file = dir.resolve("trl.jsonl");
        Files.writeString(file, """
                {"prompt": [{"role": "user", "content": "Q"}], "chosen": [[{"role": "user", "content": "Q"}, {"role": "assistant", "content": "S"}], {"role": "assistant", "content": "T"}], "rejected": [[{"role": "assistant", "content": "L"}]]}

                {"prompt": "Q2", "chosen": ["only"], "rejected": ["bad"]}
                """);
        List<PreferenceRecord> r = PreferenceJsonl.readAll(file);
        assertThat(r).hasSize(2);
        assertThat(r.get(0).sourceChosen()).isEqualTo("S");
        assertThat(r.get(0).targetChosen()).isEqualTo("T");
        assertThat(r.get(0).rejectedResponse()).isEqualTo("L");
        // One chosen response serves as both (WRPO then equals DPO).
        assertThat(r.get(1).sourceChosen()).isEqualTo("only");
        assertThat(r.get(1).targetChosen()).isEqualTo("only");
    }

    @Test
    void badLinesFailWithTheirLineNumber() throws Exception {
        Path file = dir.resolve("bad.jsonl");
        Files.writeString(file, "{\"prompt\": \"ok\", \"chosen\": [\"a\", \"b\"], \"rejected\": [\"c\"]}\n"
                + "{\"prompt\": \"x\", \"chosen\": [\"a\", \"b\"], \"rejected\": []}\n");
        assertThatThrownBy(() -> PreferenceJsonl.readAll(file)).hasMessageContaining("line 2")
                .hasMessageContaining("exactly one rejected");
        Files.writeString(file, "{not json\n");
        assertThatThrownBy(() -> PreferenceJsonl.readAll(file)).hasMessageContaining("line 1");
    }
}
