package dev.amalgam.platform.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.SafetensorsWriter;
import dev.amalgam.modelio.TensorSpec;
import dev.amalgam.platform.config.AmalgamProperties;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.testing.Registry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.unit.DataSize;

/** Publishing: checksums, metadata from headers, atomic visibility, nothing left behind on failure. */
class ArtifactStoreTest {

    @TempDir
    Path data;

    Registry registry;
    ArtifactStore store;
    ArtifactRepository repository;
    UUID tenant;

    @BeforeEach
    void setUp() {
        registry = new Registry();
        repository = new ArtifactRepository(registry.jdbc, registry.json);
        AmalgamProperties props = new AmalgamProperties(data, AmalgamProperties.Role.both, null,
                new AmalgamProperties.Worker(List.of(), 1, java.time.Duration.ofSeconds(60), java.time.Duration.ofSeconds(10),
                        java.time.Duration.ofSeconds(5), java.time.Duration.ofSeconds(15), java.time.Duration.ofSeconds(30), 0),
                new AmalgamProperties.Auth(null, false), new AmalgamProperties.Uploads(DataSize.ofGigabytes(1), 1000));
        store = new ArtifactStore(props, repository, new ArtifactMetadataReader(registry.json),
                new TransactionTemplate(new DataSourceTransactionManager(registry.dataSource)));
        tenant = registry.newTenant("t-" + UUID.randomUUID().toString().substring(0, 8));
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void publishChecksumsEveryFileAndMovesTheDirectoryIntoTheStore() throws Exception {
        Path staged = store.newStagingDir();
        Files.writeString(staged.resolve("a.txt"), "hello");
        Files.createDirectories(staged.resolve("sub"));
        Files.writeString(staged.resolve("sub/b.txt"), "world!");
        Artifact a = store.publish(new ArtifactStore.Publication(tenant, ArtifactKind.REPORT, "r1", staged, null, List.of()));

        assertThat(Files.exists(staged)).as("the staged directory was moved, not copied").isFalse();
        assertThat(a.dir()).startsWith(data.resolve("artifacts"));
        assertThat(a.sizeBytes()).isEqualTo(11);
        assertThat(repository.files(a.id())).containsExactly(
                new ArtifactFile("a.txt", 5, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
                new ArtifactFile("sub/b.txt", 6, sha256("world!".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void aModelsMetadataComesFromConfigAndSafetensorsHeaders() throws Exception {
        Path staged = store.newStagingDir();
        Files.writeString(staged.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "num_hidden_layers": 2, "hidden_size": 8,
                 "intermediate_size": 16, "vocab_size": 10, "num_attention_heads": 2, "num_key_value_heads": 1,
                 "tie_word_embeddings": true}""");
        List<TensorSpec> specs = List.of(new TensorSpec("model.embed_tokens.weight", DType.BF16, new long[] {10, 8}),
                new TensorSpec("model.norm.weight", DType.F32, new long[] {8}));
        try (SafetensorsWriter w = SafetensorsWriter.create(staged.resolve("model.safetensors"), specs, Map.of("format", "pt"))) {
            w.write("model.embed_tokens.weight", new float[80]);
            w.write("model.norm.weight", new float[8]);
        }
        Artifact a = store.publish(new ArtifactStore.Publication(tenant, ArtifactKind.MODEL, "m", staged, null, List.of()));
        assertThat(a.metadata().get("architecture").asString()).isEqualTo("LlamaForCausalLM");
        assertThat(a.metadata().get("layers").asInt()).isEqualTo(2);
        assertThat(a.metadata().get("vocabSize").asInt()).isEqualTo(10);
        assertThat(a.metadata().get("parameterCount").asLong()).isEqualTo(88);
        assertThat(a.metadata().get("dtype").asString()).isEqualTo("BF16");
        assertThat(a.metadata().get("tieWordEmbeddings").asBoolean()).isTrue();
    }

    @Test
    void aFailedPublishLeavesNeitherStagedFilesNorAVisibleArtifact() throws Exception {
        Path first = store.newStagingDir();
        Files.writeString(first.resolve("x"), "1");
        store.publish(new ArtifactStore.Publication(tenant, ArtifactKind.REPORT, "same", first, null, List.of()));

        Path second = store.newStagingDir();
        Files.writeString(second.resolve("x"), "2");
        assertThatThrownBy(() -> store.publish(new ArtifactStore.Publication(tenant, ArtifactKind.REPORT, "same", second, null, List.of())))
                .isInstanceOf(ApiException.class).hasMessageContaining("already exists");
        assertThat(Files.exists(second)).isFalse();

        Path notAModel = store.newStagingDir();
        Files.writeString(notAModel.resolve("weights.bin"), "?");
        assertThatThrownBy(() -> store.publish(new ArtifactStore.Publication(tenant, ArtifactKind.MODEL, "bad", notAModel, null, List.of())))
                .hasMessageContaining("config.json");
        assertThat(Files.exists(notAModel)).isFalse();

        try (Stream<Path> stored = Files.list(data.resolve("artifacts"))) {
            assertThat(stored).as("only the first artifact reached the store").hasSize(1);
        }
        assertThat(repository.list(tenant, null, null, 0, 10)).extracting(Artifact::name).containsExactly("same");
    }

    @Test
    void anInvalidDatasetIsRejectedWithTheLineNumber() throws Exception {
        Path staged = store.newStagingDir();
        Files.writeString(staged.resolve("d.jsonl"), "{\"text\": \"ok\"}\n\n{broken\n");
        assertThatThrownBy(() -> store.publish(new ArtifactStore.Publication(tenant, ArtifactKind.DATASET, "d", staged, null, List.of())))
                .hasMessageContaining("Line 3").hasMessageContaining("d.jsonl");
        assertThat(Files.exists(staged)).isFalse();
    }
}
