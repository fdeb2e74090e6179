package dev.amalgam.platform.artifact;

import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.SafetensorsFormatException;
import dev.amalgam.modelio.ShardedCheckpointWriter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Describes an artifact from its files: a model from config.json and the safetensors headers
 * (no tensor data is read), a dataset from its lines.
 */
public class ArtifactMetadataReader {

    private final JsonMapper json;

    public ArtifactMetadataReader(JsonMapper json) {
        this.json = json;
    }

    public JsonNode read(ArtifactKind kind, Path dir, List<ArtifactFile> files) {
        return switch (kind) {
            case MODEL -> model(dir);
            case DATASET -> dataset(dir, files);
            case REPORT, CHECKPOINT -> json.createObjectNode().put("files", files.size());
        };
    }

    /**
     * Model metadata; fails with a clear message when the directory is not a Hugging Face model or a
     * weight file is corrupt: an {@link IllegalArgumentException} naming the file relative to {@code dir}
     * (never the server's path to it) and what is wrong.
     */
    public ObjectNode model(Path dir) {
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException("Not a Hugging Face model directory: config.json is missing");
        }
        try {
            return readModel(dir);
        } catch (SafetensorsFormatException e) {
            throw new IllegalArgumentException(dir.relativize(e.file()).toString().replace('\\', '/') + ": " + e.problem(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ArtifactStore.withoutDir(e.getMessage(), dir), e);
        }
    }

    private ObjectNode readModel(Path dir) {
        try (HfModelDir model = HfModelDir.open(dir)) {
            if (model.tensorNames().isEmpty()) {
                throw new IllegalArgumentException(model.isSharded()
                        ? ShardedCheckpointWriter.INDEX_FILE + ": the index lists no tensors"
                        : ShardedCheckpointWriter.SINGLE_FILE + ": the file holds no tensors");
            }
            JsonNode config = model.config();
            ObjectNode m = json.createObjectNode();
            JsonNode architectures = config.path("architectures");
            m.put("architecture", architectures.isArray() && !architectures.isEmpty() ? architectures.get(0).asString() : null);
            m.put("modelType", config.path("model_type").asString(null));
            putInt(m, "layers", config.get("num_hidden_layers"));
            putInt(m, "hiddenSize", config.get("hidden_size"));
            putInt(m, "intermediateSize", config.get("intermediate_size"));
            putInt(m, "vocabSize", config.get("vocab_size"));
            putInt(m, "attentionHeads", config.get("num_attention_heads"));
            putInt(m, "keyValueHeads", config.get("num_key_value_heads"));
            m.put("tieWordEmbeddings", config.path("tie_word_embeddings").asBoolean(false));
            m.put("parameterCount", model.parameterCount());
            m.put("tensorCount", model.tensorNames().size());
            m.put("dtype", model.dominantDtype().safetensorsName());
            return m;
        }
    }

    private static void putInt(ObjectNode m, String field, JsonNode value) {
        if (value != null && value.isNumber()) {
            m.put(field, value.asLong());
        }
    }

    private ObjectNode dataset(Path dir, List<ArtifactFile> files) {
        ObjectNode m = json.createObjectNode();
        m.put("files", files.size());
        if (files.size() == 1 && files.get(0).path().endsWith(".jsonl")) {
            long rows = 0;
            try (BufferedReader r = Files.newBufferedReader(dir.resolve(files.get(0).path()), StandardCharsets.UTF_8)) {
                long lineNumber = 0;
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lineNumber++;
                    if (line.isBlank()) {
                        continue;
                    }
                    try {
                        json.readTree(line);
                    } catch (JacksonException e) {
                        throw new IllegalArgumentException("Line " + lineNumber + " of " + files.get(0).path()
                                + " is not valid JSON: " + e.getOriginalMessage());
                    }
                    rows++;
                }
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException(files.get(0).path() + " is not valid UTF-8");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            m.put("format", "jsonl");
            m.put("rows", rows);
        }
        return m;
    }
}
