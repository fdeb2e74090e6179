package dev.amalgam.fusion.data.arrow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ArrowStreamFileTest {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private static List<JsonNode> rows(Path file) {
        List<JsonNode> rows = new ArrayList<>();
        long n = ArrowStreamFile.read(file, (i, row) -> {
            assertThat(i).isEqualTo(rows.size());
            rows.add(row);
        });
        assertThat(n).isEqualTo(rows.size());
        return rows;
    }

    @ParameterizedTest(name = "continuation marker {0}, {1} rows a batch")
    @CsvSource({"true, 3", "true, 2", "false, 1"})
    void structsAndListsOfMessagesReadBackAsTheRowsWritten(boolean continuation, int batchRows) throws Exception {
        Path file = dir.resolve("data-00000-of-00001.arrow");
        WrpoArrowFixture.write(file, continuation, batchRows, -1);
        List<JsonNode> rows = rows(file);
        assertThat(rows).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(rows.get(i)).as("row " + i).isEqualTo(MAPPER.readTree(WrpoArrowFixture.ROWS.get(i)));
        }
        assertThat(rows.get(1).get("prompt_id").isNull()).isTrue();
        assertThat(rows.get(1).get("score").isNull()).isTrue();
        assertThat(rows.get(2).get("score").asDouble()).isEqualTo(-0.25);
    }

    @Test
    void unsupportedTypesTheFileFormatAndCorruptStreamsFailNamingTheFileAndTheFeature() throws Exception {
        Path decimal = dir.resolve("decimal.arrow");
        ArrowTestWriter.write(decimal, List.of(ArrowTestWriter.decimal("price")), List.of(Map.of("price", 1.0)), 1,
                true);
        assertThatThrownBy(() -> rows(decimal)).isInstanceOf(ArrowFormatException.class)
                .hasMessage(decimal + ": field price: type Decimal is not supported");
        Path arrowFile = dir.resolve("file.arrow");
        Files.write(arrowFile, "ARROW1\0\0more bytes here".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> rows(arrowFile)).hasMessageContaining("the Arrow file format (ARROW1) is not "
                + "supported");
        Path good = dir.resolve("good.arrow");
        WrpoArrowFixture.write(good, true, 3, -1);
        byte[] b = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.arrow");
        Files.write(cut, java.util.Arrays.copyOf(b, b.length - 100));
        assertThatThrownBy(() -> rows(cut)).isInstanceOf(ArrowFormatException.class)
                .hasMessageStartingWith(cut + ": corrupt stream");
        Path empty = dir.resolve("empty.arrow");
        Files.write(empty, new byte[] {-1, -1, -1, -1, 0, 0, 0, 0});
        assertThatThrownBy(() -> rows(empty)).hasMessageContaining("no schema message");
    }
}
