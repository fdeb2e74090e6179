package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One corrupt file per rule of the format; each error must name the file and the problem. */
class SafetensorsValidationTest {

    @TempDir
    Path dir;

    private static final String ONE = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    private AbstractThrowableAssert<?, ? extends Throwable> openFails(Path file) {
        return assertThatThrownBy(() -> SafetensorsFile.open(file).close())
                .isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining(file.toString());
    }

    private Path naive(String name, String header, int dataBytes) {
        return NaiveSafetensors.write(dir.resolve(name), header, new byte[dataBytes]);
    }

    private Path rawHeader(String name, long headerLength, byte[] rest) {
        ByteBuffer b = ByteBuffer.allocate(8 + rest.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(rest);
        return NaiveSafetensors.writeBytes(dir.resolve(name), b.array());
    }

    @Test
    void validFileOpens() {
        try (SafetensorsFile f = SafetensorsFile.open(naive("ok.safetensors", ONE, 8))) {
            assertThat(f.names()).containsExactly("a");
        }
    }

    @Test
    void fileShorterThanTheLengthPrefix() {
        openFails(NaiveSafetensors.writeBytes(dir.resolve("tiny.safetensors"), new byte[5]))
                .hasMessageContaining("too short");
    }

    @Test
    void headerLengthOverTheLimit() {
        openFails(rawHeader("huge.safetensors", 100_000_001L, new byte[16])).hasMessageContaining("exceeds the limit");
        openFails(rawHeader("neg.safetensors", -1L, new byte[16])).hasMessageContaining("18446744073709551615");
    }

    @Test
    void headerLengthPastTheEndOfTheFile() {
        byte[] h = ONE.getBytes(StandardCharsets.UTF_8);
        openFails(rawHeader("trunc-header.safetensors", h.length + 100, h)).hasMessageContaining("past the end");
    }

    @Test
    void headerThatIsNotJson() {
        openFails(naive("badjson.safetensors", "{\"a\":{\"dtype\":\"F32\",", 8)).hasMessageContaining("not valid JSON");
        openFails(naive("array.safetensors", "[1,2]", 0)).hasMessageContaining("not a JSON object");
        openFails(naive("trailing.safetensors", ONE + "{}", 8)).hasMessageContaining("not valid JSON");
        openFails(naive("dup.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8))
                .hasMessageContaining("not valid JSON").hasMessageContaining("a");
    }

    @Test
    void headerThatIsNotUtf8() {
        byte[] h = ONE.getBytes(StandardCharsets.UTF_8);
        h[3] = (byte) 0xC3; // lead byte followed by an ASCII byte: malformed
        byte[] rest = new byte[h.length + 8];
        System.arraycopy(h, 0, rest, 0, h.length);
        openFails(rawHeader("latin.safetensors", h.length, rest)).hasMessageContaining("UTF-8");
    }

    @Test
    void unknownDtype() {
        openFails(naive("dtype.safetensors", "{\"a\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8))
                .hasMessageContaining("unknown safetensors dtype 'Q4_K'").hasMessageContaining("'a'");
    }

    @Test
    void malformedEntries() {
        openFails(naive("noshape.safetensors", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8))
                .hasMessageContaining("\"shape\"");
        openFails(naive("negshape.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8))
                .hasMessageContaining("non-negative");
        openFails(naive("offs3.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", 8))
                .hasMessageContaining("data_offsets").hasMessageContaining("2 entries");
        openFails(naive("backwards.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8))
                .hasMessageContaining("end before begin");
        openFails(naive("meta.safetensors", "{\"__metadata__\":{\"step\":3}," + ONE.substring(1), 8))
                .hasMessageContaining("__metadata__").hasMessageContaining("step");
    }

    @Test
    void sizeThatDisagreesWithShapeTimesDtype() {
        // [2] x F32 needs 8 bytes, offsets span 6
        openFails(naive("size.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,6]}}", 6))
                .hasMessageContaining("wrong size").hasMessageContaining("needs 8 bytes").hasMessageContaining("span 6");
    }

    @Test
    void holeBetweenTensors() {
        openFails(naive("hole.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12))
                .hasMessageContaining("hole").hasMessageContaining("[4, 8)").hasMessageContaining("'b'");
        openFails(naive("hole0.safetensors", "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8))
                .hasMessageContaining("hole").hasMessageContaining("[0, 4)");
    }

    @Test
    void overlappingTensors() {
        openFails(naive("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8))
                .hasMessageContaining("overlap").hasMessageContaining("'a'").hasMessageContaining("'b'");
    }

    @Test
    void offsetsPastTheEndOfTheFile() {
        openFails(naive("short.safetensors", ONE, 5))
                .hasMessageContaining("past the end of the file").hasMessageContaining("only 5 bytes");
    }

    @Test
    void exceptionCarriesFileAndProblem() {
        Path file = naive("carry.safetensors", ONE, 12);
        assertThatThrownBy(() -> SafetensorsFile.open(file))
                .isInstanceOfSatisfying(SafetensorsFormatException.class, e -> {
                    assertThat(e.file()).isEqualTo(file);
                    assertThat(e.problem()).startsWith("file length mismatch");
                });
    }

    @Test
    void trailingBytesAfterTheLastTensor() {
        openFails(naive("long.safetensors", ONE, 12))
                .hasMessageContaining("file length mismatch").hasMessageContaining("4 trailing bytes");
    }

    @Test
    void emptyHeaderObjectWithNoDataIsValid() {
        try (SafetensorsFile f = SafetensorsFile.open(naive("empty.safetensors", "{}", 0))) {
            assertThat(f.tensorInfos()).isEmpty();
            assertThat(f.metadata()).isEmpty();
        }
    }
}
