package dev.amalgam.merge;

import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.ShardedCheckpointWriter;
import dev.amalgam.modelio.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes a tiny random checkpoint of any layout: a config.json, a BPE tokenizer of {@code vocab} tokens, and
 * safetensors with the given names and shapes (values seeded by the tensor name; {@code deltaSeed} perturbs them
 * as a fine-tune would). Used for families other than Llama, whose names the tests spell out by hand.
 */
public final class TinyCheckpoint {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private TinyCheckpoint() {
    }

    /** Writes the checkpoint into {@code dir}. */
    public static Path write(Path dir, Map<String, Object> config, Map<String, long[]> tensors, int vocab, long seed,
                             long deltaSeed) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(config));
            Map<String, Integer> v = new LinkedHashMap<>();
            for (int i = 0; i < vocab; i++) {
                v.put("t" + i, i);
            }
            Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(Map.of("version", "1.0",
                    "added_tokens", List.of(), "model", Map.of("type", "BPE", "vocab", v, "merges", List.of()))));
            List<TensorSpec> specs = tensors.entrySet().stream()
                    .map(e -> new TensorSpec(e.getKey(), DType.F32, e.getValue())).toList();
            try (ShardedCheckpointWriter w = ShardedCheckpointWriter.create(dir, specs, Long.MAX_VALUE)) {
                for (TensorSpec s : specs) {
                    float[] x = new float[(int) s.numel()];
                    SplittableRandom r = new SplittableRandom(seed * 31 + s.name().hashCode());
                    SplittableRandom d = new SplittableRandom(deltaSeed * 131 + s.name().hashCode());
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) (r.nextDouble() - 0.5) + 0.1f * (float) (d.nextDouble() - 0.5);
                    }
                    w.write(s.name(), x);
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
