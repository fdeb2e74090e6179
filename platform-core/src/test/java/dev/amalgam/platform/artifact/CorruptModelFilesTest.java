package dev.amalgam.platform.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.amalgam.platform.error.ApiException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.http.HttpStatus;
import org.springframework.util.unit.DataSize;

/**
 * A model whose files are corrupt is refused with a 422 naming the file (relative to the model) and
 * what is wrong with it, never with a 500, and no answer names a path of the server.
 */
class CorruptModelFilesTest {

    static final String CONFIG = "{\"architectures\": [\"LlamaForCausalLM\"], \"num_hidden_layers\": 1}";

    @TempDir
    Path data;
    @TempDir
    Path root;

    ArtifactServiceFixture fx;
    Path model;

    @BeforeEach
    void setUp() throws Exception {
        fx = new ArtifactServiceFixture(data, root, DataSize.ofMegabytes(10), 100);
        model = Files.createDirectories(root.resolve("m"));
        Files.writeString(model.resolve("config.json"), CONFIG);
    }

    /** A safetensors file: the 8-byte little-endian header length, the header, then the data. */
    static byte[] safetensors(long headerLength, byte[] header, int dataBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array());
        out.writeBytes(header);
        out.writeBytes(new byte[dataBytes]);
        return out.toByteArray();
    }

    static byte[] safetensors(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return safetensors(h.length, h, dataBytes);
    }

    static Stream<Arguments> corruptions() {
        String oneF32x4 = "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}";
        byte[] badUtf8 = "{\"w\\u00ff\": {}}".replace("\\u00ff", "\u0001").getBytes(StandardCharsets.UTF_8);
        badUtf8[4] = (byte) 0xFF;
        return Stream.of(
                Arguments.of("shorter than the header length", new byte[5], "too short for the 8-byte header length"),
                Arguments.of("data truncated", safetensors(oneF32x4, 8), "run past the end of the file"),
                Arguments.of("header length past the file", safetensors(1000, oneF32x4.getBytes(StandardCharsets.UTF_8), 16),
                        "header length 1000 runs past the end of the file"),
                Arguments.of("header length 2^63", safetensors(Long.MIN_VALUE, oneF32x4.getBytes(StandardCharsets.UTF_8), 16),
                        "header length 9223372036854775808 exceeds the limit"),
                Arguments.of("header not JSON", safetensors("{\"w\": [1, 2", 0), "header is not valid JSON"),
                Arguments.of("header not UTF-8", safetensors(badUtf8.length, badUtf8, 0), "header is not valid UTF-8"),
                Arguments.of("overlapping offsets", safetensors("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
                        + " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}", 24), "overlap tensor 'a'"),
                Arguments.of("shape and dtype disagree with the offsets",
                        safetensors("{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 8]}}", 8), "tensor 'w' wrong size"),
                Arguments.of("no tensors", safetensors("{}", 0), "the file holds no tensors"));
    }

    ApiException refusedImport() throws Exception {
        ApiException e = catchThrowableOfType(ApiException.class,
                () -> fx.service.importFromRoot(fx.tenant, ArtifactKind.MODEL, "m", "m"));
        assertThat(e).as("the import is refused with an ApiException").isNotNull();
        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.getMessage()).doesNotContain(data.toString()).doesNotContain(root.toString());
        assertThat(e.errors()).noneMatch(m -> m.contains(data.toString()) || m.contains(root.toString()));
        assertThat(fx.artifacts()).isEmpty();
        assertThat(fx.leftInStaging()).as("the staged files are removed").isEmpty();
        return e;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptions")
    void aCorruptSafetensorsFileIsA422NamingTheFileAndTheProblem(String kind, byte[] file, String problem) throws Exception {
        Files.write(model.resolve("model.safetensors"), file);

        ApiException e = refusedImport();

        assertThat(e.errors()).singleElement().asString().startsWith("model.safetensors: ").contains(problem);
    }

    @Test
    void aCorruptSafetensorsFileInATarUploadIsA422Too() throws Exception {
        TarUploadTest.Tar tar = new TarUploadTest.Tar().file("m/config.json", CONFIG)
                .add(new TarArchiveEntry("m/model.safetensors"), safetensors("{\"w\": [", 0));

        ApiException e = catchThrowableOfType(ApiException.class,
                () -> fx.service.uploadTar(fx.tenant, ArtifactKind.MODEL, "m", tar.stream()));

        assertThat(e).isNotNull();
        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).singleElement().asString().startsWith("model.safetensors: header is not valid JSON");
        assertThat(fx.leftInStaging()).isEmpty();
    }

    @Test
    void aCorruptShardIsNamedByItsFileName() throws Exception {
        Files.writeString(model.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"w\": \"model-00001-of-00001.safetensors\"}}");
        Files.write(model.resolve("model-00001-of-00001.safetensors"), safetensors("{\"w\": [", 0));

        ApiException e = refusedImport();

        assertThat(e.errors()).singleElement().asString().startsWith("model-00001-of-00001.safetensors: header is not valid JSON");
    }

    @Test
    void anIndexNamingAMissingShardIsA422WithoutServerPaths() throws Exception {
        Files.writeString(model.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"w\": \"missing.safetensors\"}}");

        ApiException e = refusedImport();

        assertThat(e.errors()).containsExactly(
                "model.safetensors.index.json: shard missing.safetensors of tensor 'w' does not exist");
    }

    @Test
    void anInvalidConfigIsA422WithoutServerPaths() throws Exception {
        ArtifactServiceFixture.writeModel(model);
        Files.writeString(model.resolve("config.json"), "{\"num_hidden_layers\": ");

        ApiException e = refusedImport();

        assertThat(e.errors()).singleElement().asString().startsWith("config.json: invalid JSON");
    }

    @Test
    void aModelWithoutWeightsIsA422WithoutServerPaths() throws Exception {
        ApiException e = refusedImport();

        assertThat(e.errors()).singleElement().asString().startsWith("no model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json in the artifact");
    }

    @Test
    void aDatasetThatIsNotUtf8IsA422NamingTheFile() throws Exception {
        Files.write(root.resolve("d.jsonl"), new byte[] {'{', '"', 't', '"', ':', '"', (byte) 0xFF, '"', '}', '\n'});

        ApiException e = catchThrowableOfType(ApiException.class,
                () -> fx.service.importFromRoot(fx.tenant, ArtifactKind.DATASET, "d", "d.jsonl"));

        assertThat(e).isNotNull();
        assertThat(e.status()).isEqualTo(HttpStatus.UNPROCESSABLE_CONTENT);
        assertThat(e.errors()).containsExactly("d.jsonl is not valid UTF-8");
        assertThat(fx.leftInStaging()).isEmpty();
    }
}
