package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class JsonTest {

    @TempDir
    Path dir;

    record Report(String method, double loss, List<Integer> layers) {
    }

    @Test
    void writesPrettyJsonAtomicallyAndReadsItBack() throws IOException {
        Path file = dir.resolve("report.json");
        Json.write(file, new Report("ties", 0.25, List.of(3, 4)));
        String text = Files.readString(file);
        assertThat(text).endsWith("}\n").contains("\n  ");
        assertThat(Files.exists(dir.resolve("report.json.tmp"))).isFalse();
        assertThat(Json.read(file, Report.class)).isEqualTo(new Report("ties", 0.25, List.of(3, 4)));
        JsonNode tree = Json.read(file);
        assertThat(tree.get("layers").get(1).asInt()).isEqualTo(4);
        assertThat(Json.toCompactString(Map.of("a", 1))).isEqualTo("{\"a\":1}");
    }

    @Test
    void errorsNameTheFile() throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"a\":");
        assertThatThrownBy(() -> Json.read(bad)).hasMessageContaining(bad.toString());
        assertThatThrownBy(() -> Json.read(dir.resolve("absent.json"))).hasMessageContaining("absent.json");
    }
}
