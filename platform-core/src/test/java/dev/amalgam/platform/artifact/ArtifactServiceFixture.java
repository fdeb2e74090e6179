package dev.amalgam.platform.artifact;

import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.SafetensorsWriter;
import dev.amalgam.modelio.TensorSpec;
import dev.amalgam.platform.config.AmalgamProperties;
import dev.amalgam.platform.testing.Registry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.unit.DataSize;

/** An {@link ArtifactService} wired by hand on a fresh test database, for import and upload tests. */
final class ArtifactServiceFixture {

    final Path dataDir;
    final ArtifactRepository repository;
    final ArtifactService service;
    final UUID tenant;

    ArtifactServiceFixture(Path dataDir, Path importRoot, DataSize maxBytes, int maxEntries) {
        this.dataDir = dataDir;
        Registry registry = new Registry();
        repository = new ArtifactRepository(registry.jdbc, registry.json);
        AmalgamProperties props = new AmalgamProperties(dataDir, AmalgamProperties.Role.both, importRoot,
                new AmalgamProperties.Worker(List.of(), 1, Duration.ofSeconds(60), Duration.ofSeconds(10),
                        Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(30), 0),
                new AmalgamProperties.Auth(null, false), new AmalgamProperties.Uploads(maxBytes, maxEntries));
        ArtifactStore store = new ArtifactStore(props, repository, new ArtifactMetadataReader(registry.json),
                new TransactionTemplate(new DataSourceTransactionManager(registry.dataSource)));
        service = new ArtifactService(repository, store, props);
        tenant = registry.newTenant("t-" + UUID.randomUUID().toString().substring(0, 8));
    }

    /** What failed imports and uploads left in the staging directory (nothing, they must clean up). */
    List<Path> leftInStaging() throws IOException {
        Path staging = dataDir.resolve("staging");
        if (!Files.isDirectory(staging)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(staging)) {
            return s.toList();
        }
    }

    /** The tenant's artifacts, whatever their state. */
    List<Artifact> artifacts() {
        return repository.list(tenant, null, null, 0, 100);
    }

    /** Writes a valid two-tensor Hugging Face model directory (config.json and model.safetensors). */
    static void writeModel(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"], \"num_hidden_layers\": 1}");
        List<TensorSpec> specs = List.of(new TensorSpec("model.embed_tokens.weight", DType.F32, new long[] {4, 2}));
        try (SafetensorsWriter w = SafetensorsWriter.create(dir.resolve("model.safetensors"), specs, Map.of("format", "pt"))) {
            w.write("model.embed_tokens.weight", new float[8]);
        }
    }
}
