package dev.amalgam.fusion.data.parquet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ParquetFileTest {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private List<JsonNode> rows(Path file) {
        List<JsonNode> rows = new ArrayList<>();
        List<Long> indices = new ArrayList<>();
        long n = ParquetFile.read(file, (i, row) -> {
            indices.add(i);
            rows.add(row);
        });
        assertThat(n).isEqualTo(rows.size());
        for (int i = 0; i < indices.size(); i++) {
            assertThat(indices.get(i)).isEqualTo(i);
        }
        return rows;
    }

    @ParameterizedTest(name = "{0}, page v2 {1}, {2} rows a page")
    @CsvSource({"UNCOMPRESSED, false, 4", "SNAPPY, false, 2", "SNAPPY, true, 3", "ZSTD, true, 4", "GZIP, false, 1",
        "GZIP, true, 1"})
    void nestedMessageListsAndDictionaryColumnsReadBackAsTheRowsWritten(ParquetTestWriter.Codec codec, boolean v2,
            int rowsPerPage) throws Exception {
        Path file = dir.resolve("train-00000-of-00001.parquet");
        WrpoParquetFixture.write(file, codec, v2, rowsPerPage, -1);
        List<JsonNode> rows = rows(file);
        assertThat(rows).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertThat(rows.get(i)).as("row " + i).isEqualTo(MAPPER.readTree(WrpoParquetFixture.ROWS.get(i)));
        }
        // the distinctions equality alone could blur: a null list, an empty list, a null element
        assertThat(rows.get(2).get("scores").isNull()).isTrue();
        assertThat(rows.get(3).get("scores").isArray()).isTrue();
        assertThat(rows.get(3).get("scores")).isEmpty();
        assertThat(rows.get(1).get("scores").get(0).isNull()).isTrue();
        assertThat(rows.get(0).get("scores").get(1).asDouble()).isEqualTo(-1.25);
    }

    @Test
    void rleAndBitPackedRunsDecodeAsTheFormatSpecExample() {
        // the spec's example: 0..7 bit-packed with width 3 is 10001000 11000110 11111010; header (1 group << 1) | 1
        RleBitPackedDecoder packed = new RleBitPackedDecoder(ByteBuffer.wrap(new byte[] {0x03, (byte) 0x88,
            (byte) 0xC6, (byte) 0xFA}), 3);
        for (int i = 0; i < 8; i++) {
            assertThat(packed.next()).isEqualTo(i);
        }
        // RLE runs: header 5 << 1, then the value in ceil(9 / 8) = 2 bytes, little-endian; then one 300
        RleBitPackedDecoder rle = new RleBitPackedDecoder(ByteBuffer.wrap(new byte[] {0x0A, 0x04, 0x00, 0x02, 0x2C,
            0x01}), 9);
        for (int i = 0; i < 5; i++) {
            assertThat(rle.next()).isEqualTo(4);
        }
        assertThat(rle.next()).isEqualTo(300);
        assertThatThrownBy(rle::next).hasMessageContaining("ends before its values");
        // the test writer's encoders agree with the decoder
        int[] levels = {0, 0, 1, 3, 3, 3, 2};
        RleBitPackedDecoder back = new RleBitPackedDecoder(ByteBuffer.wrap(ParquetTestWriter.rle(levels, 2)), 2);
        for (int level : levels) {
            assertThat(back.next()).isEqualTo(level);
        }
    }

    @Test
    void thriftCompactReadsShortAndLongFieldHeaders() {
        // field 1 i32 = 3 (delta header 0x15, zigzag 6); field 300 binary "hi" (long form: type byte 0x08, zigzag
        // 600 = 0xD8 0x04); field 301 list<i32> [-1, 2]; stop
        byte[] bytes = {0x15, 0x06, 0x08, (byte) 0xD8, 0x04, 0x02, 'h', 'i', 0x19, 0x25, 0x01, 0x04, 0x00};
        ThriftCompact.Struct s = new ThriftCompact(ByteBuffer.wrap(bytes)).readStruct();
        assertThat(s.i32(1)).isEqualTo(3);
        assertThat(s.string(300)).isEqualTo("hi");
        assertThat(s.<Integer>list(301)).containsExactly(-1, 2);
        assertThat(s.fields().keySet()).containsExactlyInAnyOrder(1, 300, 301);
        assertThatThrownBy(() -> new ThriftCompact(ByteBuffer.wrap(new byte[] {0x18, 0x40})).readStruct())
                .isInstanceOf(ParquetFormatException.class).hasMessageContaining("corrupt Thrift metadata");
    }

    @Test
    void unsupportedFeaturesAndCorruptFilesFailNamingTheFileAndTheFeature() throws Exception {
        Path lz4 = dir.resolve("lz4.parquet");
        WrpoParquetFixture.write(lz4, ParquetTestWriter.Codec.LZ4_RAW, false, 4, -1);
        assertThatThrownBy(() -> rows(lz4)).isInstanceOf(ParquetFormatException.class)
                .hasMessageStartingWith(lz4.toString())
                .hasMessageContaining("column prompt_id: compression codec LZ4_RAW is not supported");
        Path int96 = dir.resolve("int96.parquet");
        ParquetTestWriter.write(int96, List.of(new ParquetTestWriter.Field("ts", ParquetTestWriter.OPTIONAL,
                ParquetSchema.INT96, null, List.of())), List.of(ParquetTestWriter.column(new int[] {0},
                new int[] {0}, false)), 1, ParquetTestWriter.Codec.UNCOMPRESSED, false, 1);
        assertThatThrownBy(() -> rows(int96)).hasMessage(int96 + ": ts: physical type INT96 (legacy timestamps) is not "
                + "supported");
        Path text = dir.resolve("text.parquet");
        Files.writeString(text, "{\"prompt\": \"not parquet at all\"}\n");
        assertThatThrownBy(() -> rows(text)).hasMessageStartingWith(text + ": not a Parquet file");
        Path good = dir.resolve("good.parquet");
        WrpoParquetFixture.write(good, ParquetTestWriter.Codec.SNAPPY, false, 4, -1);
        byte[] b = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.parquet");
        // the data cut out, the footer kept: chunks point past the end or read garbage
        byte[] shortened = new byte[b.length - 40];
        System.arraycopy(b, 0, shortened, 0, 4);
        System.arraycopy(b, 44, shortened, 4, b.length - 44);
        Files.write(cut, shortened);
        assertThatThrownBy(() -> rows(cut)).isInstanceOf(ParquetFormatException.class)
                .hasMessageStartingWith(cut.toString());
        byte[] encrypted = b.clone();
        System.arraycopy("PARE".getBytes(StandardCharsets.US_ASCII), 0, encrypted, b.length - 4, 4);
        Path enc = dir.resolve("enc.parquet");
        Files.write(enc, encrypted);
        assertThatThrownBy(() -> rows(enc)).hasMessageContaining("encrypted Parquet files are not supported");
    }

    @Test
    void aBareRepeatedFieldIsAnArrayAndAMapIsAnObject() throws Exception {
        // message { repeated int64 ids; optional group tags (MAP) { repeated group key_value { required binary key
        // (STRING); optional int64 value } } } with rows {ids [7, 8], tags {a: 1, b: null}}, {ids [], tags null}
        List<ParquetTestWriter.Field> fields = List.of(ParquetTestWriter.int64("ids", ParquetTestWriter.REPEATED),
                ParquetTestWriter.group("tags", ParquetTestWriter.OPTIONAL, "MAP",
                        ParquetTestWriter.group("key_value", ParquetTestWriter.REPEATED, null,
                                ParquetTestWriter.string("key", ParquetTestWriter.REQUIRED),
                                ParquetTestWriter.int64("value", ParquetTestWriter.OPTIONAL))));
        Path file = dir.resolve("map.parquet");
        ParquetTestWriter.write(file, fields, List.of(
                ParquetTestWriter.column(new int[] {0, 1, 0}, new int[] {1, 1, 0}, false, 7L, 8L),
                ParquetTestWriter.column(new int[] {0, 1, 0}, new int[] {2, 2, 0}, false, "a", "b"),
                ParquetTestWriter.column(new int[] {0, 1, 0}, new int[] {3, 2, 0}, false, 1L)),
                2, ParquetTestWriter.Codec.UNCOMPRESSED, false, 2);
        // INT64 values are longs, so compare the JSON text (an int 7 and a long 7 are different nodes)
        assertThat(rows(file)).extracting(JsonNode::toString).containsExactly(
                "{\"ids\":[7,8],\"tags\":{\"a\":1,\"b\":null}}", "{\"ids\":[],\"tags\":null}");
    }
}
