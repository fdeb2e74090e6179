package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.modelio.TorchBinWriter.Entry;
import dev.amalgam.modelio.TorchBinWriter.Storage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchZipFileTest {

    @TempDir
    Path dir;

    private static final float[] W = {1.5f, -2f, 3.25f, 0f, -0.125f, 6f};

    @Test
    void readsTheTensorsTorchSaveWritesWithTheirValuesDtypesAndShapes() throws IOException {
        Map<String, Storage> storages = new LinkedHashMap<>();
        storages.put("0", new Storage("FloatStorage", 4, TorchBinWriter.bytes(DType.F32, W)));
        storages.put("1", new Storage("BFloat16Storage", 2, TorchBinWriter.bytes(DType.BF16, 1f, 2f, 3f, 4f)));
        storages.put("2", new Storage("HalfStorage", 2, TorchBinWriter.bytes(DType.F16, 0.5f, -0.25f)));
        Path bin = dir.resolve("pytorch_model.bin");
        TorchBinWriter.write(bin, List.of(
                Entry.contiguous("model.embed_tokens.weight", "0", 0, 2, 3),
                Entry.contiguous("model.norm.weight", "1", 0, 4),
                Entry.contiguous("lm_head.bias", "2", 0, 2),
                // a view into storage 0 from element 3 (a tied or sliced tensor shares its storage)
                Entry.contiguous("tail", "0", 3, 3)), storages);

        try (TorchZipFile f = TorchZipFile.open(bin)) {
            assertThat(f.tensorInfos()).extracting(TensorInfo::name).containsExactly("model.embed_tokens.weight",
                    "model.norm.weight", "lm_head.bias", "tail");
            Tensor e = f.tensor("model.embed_tokens.weight");
            assertThat(e.dtype()).isEqualTo(DType.F32);
            assertThat(e.shape()).containsExactly(2, 3);
            assertThat(e.toFloatArray()).containsExactly(W);
            Tensor n = f.tensor("model.norm.weight");
            assertThat(n.dtype()).isEqualTo(DType.BF16);
            assertThat(n.toFloatArray()).containsExactly(1f, 2f, 3f, 4f);
            assertThat(f.tensor("lm_head.bias").dtype()).isEqualTo(DType.F16);
            assertThat(f.tensor("lm_head.bias").toFloatArray()).containsExactly(0.5f, -0.25f);
            assertThat(f.tensor("tail").toFloatArray()).containsExactly(0f, -0.125f, 6f);
            assertThat(f.tensor("tail").rawBytes().remaining()).isEqualTo(12);
        }
    }

    @Test
    void refusesAForbiddenGlobalWithoutRunningIt() throws IOException {
        Path bin = dir.resolve("pytorch_model.bin");
        TorchBinWriter.write(bin, TorchBinWriter.maliciousPickle(), Map.of());
        assertThatThrownBy(() -> TorchZipFile.open(bin))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("archive/data.pkl")
                .hasMessageContaining("forbidden global 'os.system'")
                .hasMessageContaining("not loaded");
    }

    @Test
    void refusesAStateDictEntryThatIsNotATensor() throws IOException {
        // OrderedDict() with one item 'x' -> 5: PROTO 2, GLOBAL, EMPTY_TUPLE, REDUCE, 'x', BININT1 5, SETITEM, STOP
        byte[] pickle = concat(new byte[] {(byte) 0x80, 2, 'c'}, "collections\nOrderedDict\n".getBytes(),
                new byte[] {')', 'R', 'X', 1, 0, 0, 0, 'x', 'K', 5, 's', '.'});
        Path bin = dir.resolve("pytorch_model.bin");
        TorchBinWriter.write(bin, pickle, Map.of());
        assertThatThrownBy(() -> TorchZipFile.open(bin))
                .hasMessageContaining("state dict entry 'x' is 5, not a tensor");
    }

    @Test
    void refusesAnUnknownOpcodeNamingItsOffset() throws IOException {
        byte[] pickle = {(byte) 0x80, 2, 'i', '.'}; // INST (protocol 0 instance creation)
        Path bin = dir.resolve("pytorch_model.bin");
        TorchBinWriter.write(bin, pickle, Map.of());
        assertThatThrownBy(() -> TorchZipFile.open(bin)).hasMessageContaining("(byte 2): opcode 0x69 ('i')");
    }

    @Test
    void refusesATensorBeyondItsStorageAndNonContiguousStrides() throws IOException {
        Map<String, Storage> storages = Map.of("0", new Storage("FloatStorage", 4, TorchBinWriter.bytes(DType.F32, W)));
        Path beyond = dir.resolve("beyond.bin");
        TorchBinWriter.write(beyond, List.of(Entry.contiguous("w", "0", 2, 2, 3)), storages);
        assertThatThrownBy(() -> TorchZipFile.open(beyond)).hasMessageContaining("tensor 'w'")
                .hasMessageContaining("beyond its storage of 6 F32 elements");
        Path transposed = dir.resolve("transposed.bin");
        TorchBinWriter.write(transposed, List.of(new Entry("w", "0", 0, new long[] {3, 2}, new long[] {1, 3})),
                storages);
        assertThatThrownBy(() -> TorchZipFile.open(transposed)).hasMessageContaining("non-contiguous strides [1, 3]");
    }

    @Test
    void refusesALegacyNonZipCheckpoint() throws IOException {
        Path bin = dir.resolve("pytorch_model.bin");
        Files.write(bin, new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10}); // the legacy format starts with a pickle
        assertThatThrownBy(() -> TorchZipFile.open(bin)).hasMessageContaining("not a zip archive")
                .hasMessageContaining("legacy");
    }

    @Test
    void modelDirectoryReadsSingleAndShardedBinCheckpoints() throws IOException {
        Path single = Files.createDirectories(dir.resolve("single"));
        Files.writeString(single.resolve("config.json"), "{\"hidden_size\":3}");
        TorchBinWriter.write(single.resolve("pytorch_model.bin"), List.of(Entry.contiguous("a", "0", 0, 2, 3)),
                Map.of("0", new Storage("FloatStorage", 4, TorchBinWriter.bytes(DType.F32, W))));
        try (HfModelDir m = HfModelDir.open(single)) {
            assertThat(m.tensorNames()).containsExactly("a");
            assertThat(m.tensor("a").toFloatArray()).containsExactly(W);
            assertThat(m.weightFiles()).isEmpty();
            assertThat(m.dominantDtype()).isEqualTo(DType.F32);
        }

        Path sharded = Files.createDirectories(dir.resolve("sharded"));
        TorchBinWriter.write(sharded.resolve("pytorch_model-00001-of-00002.bin"),
                List.of(Entry.contiguous("a", "0", 0, 2)),
                Map.of("0", new Storage("FloatStorage", 4, TorchBinWriter.bytes(DType.F32, 1f, 2f))));
        TorchBinWriter.write(sharded.resolve("pytorch_model-00002-of-00002.bin"),
                List.of(Entry.contiguous("b", "0", 0, 1)),
                Map.of("0", new Storage("BFloat16Storage", 2, TorchBinWriter.bytes(DType.BF16, 7f))));
        Files.writeString(sharded.resolve(HfModelDir.BIN_INDEX_FILE), "{\"weight_map\":{"
                + "\"a\":\"pytorch_model-00001-of-00002.bin\",\"b\":\"pytorch_model-00002-of-00002.bin\"}}");
        try (HfModelDir m = HfModelDir.open(sharded)) {
            assertThat(m.isSharded()).isTrue();
            assertThat(m.tensor("a").toFloatArray()).containsExactly(1f, 2f);
            assertThat(m.tensor("b").toFloatArray()).containsExactly(7f);
            assertThat(m.auxiliaryFiles()).isEmpty(); // the .bin shards and their index are weights
        }
    }

    @Test
    void safetensorsWinOverBinFilesAsInMergekit() throws IOException {
        Path m = Files.createDirectories(dir.resolve("both"));
        TorchBinWriter.write(m.resolve("pytorch_model.bin"), List.of(Entry.contiguous("from_bin", "0", 0, 1)),
                Map.of("0", new Storage("FloatStorage", 4, TorchBinWriter.bytes(DType.F32, 1f))));
        NaiveSafetensors.Bytes d = new NaiveSafetensors.Bytes();
        d.f32(2f);
        NaiveSafetensors.write(m.resolve("model.safetensors"),
                "{\"from_st\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", d.toArray());
        try (HfModelDir model = HfModelDir.open(m)) {
            assertThat(model.tensorNames()).containsExactly("from_st");
        }
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
