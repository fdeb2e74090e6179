package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class ShardedCheckpointWriterTest {

    @TempDir
    Path dir;

    /** Six F32 tensors of 4*k floats = 16*k bytes each: 16, 32, 48, 64, 80, 96 bytes (336 total). */
    private static List<TensorSpec> specs() {
        List<TensorSpec> specs = new ArrayList<>();
        for (int k = 1; k <= 6; k++) {
            specs.add(new TensorSpec("layer." + k + ".weight", DType.F32, new long[] {k, 4}));
        }
        return specs;
    }

    private static float[] values(TensorSpec s) {
        float[] v = new float[(int) s.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = s.name().hashCode() % 97 + i * 0.25f;
        }
        return v;
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void greedyPlanByHand() {
        // max 100 bytes: [16,32,48]=96 | [64] (64+80>100) | [80] | [96]
        List<List<TensorSpec>> plan = ShardedCheckpointWriter.plan(specs(), 100);
        assertThat(plan).extracting(List::size).containsExactly(3, 1, 1, 1);
        // max 48: [16,32]=48 exactly fits | [48] | [64] | [80] | [96]; tensors over the max get their own shard
        assertThat(ShardedCheckpointWriter.plan(specs(), 48)).extracting(List::size).containsExactly(2, 1, 1, 1, 1);
        assertThat(ShardedCheckpointWriter.plan(specs(), 40)).extracting(List::size).containsExactly(1, 1, 1, 1, 1, 1);
        assertThat(ShardedCheckpointWriter.plan(List.of(), 40)).hasSize(1);
        assertThat(ShardedCheckpointWriter.shardFileName(2, 4)).isEqualTo("model-00002-of-00004.safetensors");
    }

    @Test
    void shardedCheckpointWithIndexFromManyThreadsInAnyOrder() throws Exception {
        List<TensorSpec> specs = specs();
        Path out = dir.resolve("out");
        List<TensorSpec> shuffled = new ArrayList<>(specs);
        Collections.shuffle(shuffled, new Random(3));
        try (ShardedCheckpointWriter w = ShardedCheckpointWriter.create(out, specs, 100)) {
            assertThat(w.shardCount()).isEqualTo(4);
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (TensorSpec s : shuffled) {
                    fs.add(pool.submit(() -> w.write(s.name(), values(s))));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            // every shard finished as soon as its tensors were in: renamed before close()
            assertThat(listing(out)).containsExactly("model-00001-of-00004.safetensors",
                    "model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors",
                    "model-00004-of-00004.safetensors");
        }
        JsonNode index = Json.read(out.resolve("model.safetensors.index.json"));
        assertThat(index.get("metadata").get("total_size").asLong()).isEqualTo(16 + 32 + 48 + 64 + 80 + 96);
        JsonNode map = index.get("weight_map");
        assertThat(map.size()).isEqualTo(6);
        assertThat(map.get("layer.1.weight").asString()).isEqualTo("model-00001-of-00004.safetensors");
        assertThat(map.get("layer.3.weight").asString()).isEqualTo("model-00001-of-00004.safetensors");
        assertThat(map.get("layer.4.weight").asString()).isEqualTo("model-00002-of-00004.safetensors");
        assertThat(map.get("layer.6.weight").asString()).isEqualTo("model-00004-of-00004.safetensors");
        try (SafetensorsFile shard = SafetensorsFile.open(out.resolve("model-00001-of-00004.safetensors"))) {
            assertThat(shard.metadata()).isEqualTo(Map.of("format", "pt"));
            assertThat(shard.names()).containsExactly("layer.1.weight", "layer.2.weight", "layer.3.weight");
            assertThat(shard.tensor("layer.2.weight").toFloatArray()).containsExactly(values(specs.get(1)));
        }
        try (HfModelDir m = HfModelDir.open(out)) {
            assertThat(m.isSharded()).isTrue();
            for (TensorSpec s : specs) {
                assertThat(m.tensor(s.name()).toFloatArray()).containsExactly(values(s));
            }
        }
    }

    @Test
    void singleFileWhenEverythingFits() throws IOException {
        Path out = dir.resolve("single");
        try (ShardedCheckpointWriter w = ShardedCheckpointWriter.create(out, specs(), 1 << 20)) {
            assertThat(w.shardCount()).isEqualTo(1);
            for (TensorSpec s : specs()) {
                w.write(s.name(), values(s));
            }
        }
        assertThat(listing(out)).containsExactly("model.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.names()).hasSize(6);
        }
    }

    @Test
    void missingTensorFailsAndLeavesNoCheckpointFile() throws IOException {
        Path out = dir.resolve("broken");
        List<TensorSpec> specs = specs();
        ShardedCheckpointWriter w = ShardedCheckpointWriter.create(out, specs, 100);
        for (TensorSpec s : specs) {
            if (!s.name().equals("layer.5.weight")) {
                w.write(s.name(), values(s));
            }
        }
        assertThat(listing(out)).hasSize(4); // three finished shards and the unfinished .tmp
        assertThatThrownBy(w::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("layer.5.weight").hasMessageContaining("missing");
        assertThat(listing(out)).isEmpty();
    }

    @Test
    void rewritingADirectoryRemovesTheStaleCheckpoint() throws IOException {
        Path out = dir.resolve("again");
        try (ShardedCheckpointWriter w = ShardedCheckpointWriter.create(out, specs(), 100)) {
            specs().forEach(s -> w.write(s.name(), values(s)));
        }
        Files.writeString(out.resolve("tokenizer.json"), "{}");
        try (ShardedCheckpointWriter w = ShardedCheckpointWriter.create(out, specs(), 1000)) {
            specs().forEach(s -> w.write(s.name(), values(s)));
        }
        assertThat(listing(out)).containsExactly("model.safetensors", "tokenizer.json");
    }
}
