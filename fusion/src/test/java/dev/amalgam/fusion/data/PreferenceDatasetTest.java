package dev.amalgam.fusion.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.fusion.data.arrow.WrpoArrowFixture;
import dev.amalgam.fusion.data.parquet.ParquetTestWriter;
import dev.amalgam.fusion.data.parquet.WrpoParquetFixture;
import dev.amalgam.modelengine.text.ChatMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreferenceDatasetTest {

    /** The record form the WRPO authors publish: prompt as one message object, messages as responses, prompt_id. */
    static final String PUBLISHED = """
            {"prompt_id": "3ebac28", "prompt": {"content": "Translate: kiitos", "role": "user"}, \
            "chosen": [{"content": "Thank you.", "role": "assistant"}, {"content": "Thanks!", "role": "assistant"}], \
            "rejected": [{"content": "Hello.", "role": "assistant"}]}
            """;

    @TempDir
    Path dir;

    @Test
    void readsThePublishedRecordFormAndKeepsThePromptId() throws Exception {
        Path file = dir.resolve("wrpo.jsonl");
        Files.writeString(file, PUBLISHED + "\n\n");
        PreferenceDataset d = PreferenceDataset.read(file);
        assertThat(d.train()).hasSize(1);
        PreferenceRecord r = d.train().get(0);
        assertThat(r.promptId()).isEqualTo("3ebac28");
        assertThat(r.prompt()).hasSize(1);
        assertThat(r.prompt().get(0).role()).isEqualTo("user");
        assertThat(r.prompt().get(0).content()).isEqualTo("Translate: kiitos");
        assertThat(r.sourceChosen()).isEqualTo("Thank you.");
        assertThat(r.targetChosen()).isEqualTo("Thanks!");
        assertThat(r.rejectedResponse()).isEqualTo("Hello.");
        assertThat(d.blankLines()).isEqualTo(2);
        assertThat(d.trainSplit()).isEqualTo("file");
        // written back with its id
        Path back = dir.resolve("back.jsonl");
        PreferenceJsonl.write(back, d.train());
        assertThat(Files.readString(back)).contains("\"prompt_id\":\"3ebac28\"");
        assertThat(PreferenceJsonl.readAll(back)).isEqualTo(d.train());
    }

    @Test
    void aHubSnapshotDirectoryIsReadByItsSplitFilesInShardOrder() throws Exception {
        Path data = Files.createDirectories(dir.resolve("snapshot/data"));
        Files.writeString(data.resolve("train_prefs-00001-of-00002.jsonl"), PUBLISHED.replace("3ebac28", "b"));
        Files.writeString(data.resolve("train_prefs-00000-of-00002.jsonl"), PUBLISHED.replace("3ebac28", "a"));
        Files.writeString(data.resolve("test_prefs-00000-of-00001.jsonl"), PUBLISHED.replace("3ebac28", "t"));
        Files.writeString(data.resolve("train_sft-00000-of-00001.jsonl"), PUBLISHED);
        Files.writeString(dir.resolve("snapshot/README.md"), "# a dataset card, not data\n");
        PreferenceDataset d = PreferenceDataset.read(dir.resolve("snapshot"));
        assertThat(d.trainSplit()).isEqualTo("train_prefs");
        assertThat(d.train()).extracting(PreferenceRecord::promptId).containsExactly("a", "b");
        assertThat(d.testSplit()).isEqualTo("test_prefs");
        assertThat(d.test()).extracting(PreferenceRecord::promptId).containsExactly("t");
        assertThat(d.otherSplits()).containsExactly("train_sft");
        assertThat(d.filesNotRead()).containsExactly("README.md");
    }

    @Test
    void aSaveToDiskLayoutNamesItsSplitsByFolder() throws Exception {
        Files.createDirectories(dir.resolve("ds/train"));
        Files.createDirectories(dir.resolve("ds/test"));
        Files.writeString(dir.resolve("ds/dataset_dict.json"), "{\"splits\": [\"train\", \"test\"]}");
        Files.writeString(dir.resolve("ds/train/data-00000-of-00001.jsonl"), PUBLISHED + PUBLISHED);
        Files.writeString(dir.resolve("ds/test/data-00000-of-00001.jsonl"), PUBLISHED);
        PreferenceDataset d = PreferenceDataset.read(dir.resolve("ds"));
        assertThat(d.train()).hasSize(2);
        assertThat(d.test()).hasSize(1);
        assertThat(d.trainSplit()).isEqualTo("train");
    }

    @Test
    void brokenParquetAndArrowFilesFailWithTheirNameInsteadOfBeingSkipped() throws Exception {
        Path data = Files.createDirectories(dir.resolve("hub/data"));
        Files.write(data.resolve("train-00000-of-00001.parquet"), new byte[] {'P', 'A', 'R', '1'});
        assertThatThrownBy(() -> PreferenceDataset.read(dir.resolve("hub")))
                .hasMessageContaining("train-00000-of-00001.parquet").hasMessageContaining("not a Parquet file");
        Files.createDirectories(dir.resolve("arrow/train"));
        Files.write(dir.resolve("arrow/train/data-00000-of-00001.arrow"), new byte[8]);
        assertThatThrownBy(() -> PreferenceDataset.read(dir.resolve("arrow")))
                .hasMessageContaining("data-00000-of-00001.arrow").hasMessageContaining("no schema message");
        Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> PreferenceDataset.read(dir.resolve("empty"))).hasMessageContaining("no train split");
    }

    @Test
    void aSaveToDiskDirectoryOfArrowStreamsIsReadFieldByField() throws Exception {
        // what save_to_disk writes for a DatasetDict: dataset_dict.json, and per split the Arrow stream shards with
        // dataset_info.json and state.json
        Path ds = Files.createDirectories(dir.resolve("saved"));
        Files.writeString(ds.resolve("dataset_dict.json"), "{\"splits\": [\"train\", \"test\"]}");
        for (String split : List.of("train", "test")) {
            Path d = Files.createDirectories(ds.resolve(split));
            Files.writeString(d.resolve("dataset_info.json"), "{}");
            Files.writeString(d.resolve("state.json"), "{\"_data_files\": [{\"filename\": \"data-00000-of-00001.arrow\"}]}");
            WrpoArrowFixture.write(d.resolve("data-00000-of-00001.arrow"), true, 2, -1);
        }
        PreferenceDataset d = PreferenceDataset.read(ds);
        assertThat(d.trainSplit()).isEqualTo("train");
        assertThat(d.testSplit()).isEqualTo("test");
        assertThat(d.train()).extracting(PreferenceRecord::promptId).containsExactly("a", null, "c");
        PreferenceRecord r0 = d.train().get(0);
        assertThat(r0.prompt()).containsExactly(ChatMessage.user("Hi there"));
        assertThat(r0.chosen()).containsExactly("Hello!", "Hey.");
        assertThat(r0.rejected()).containsExactly("Go away.");
        assertThat(d.train().get(1).chosen()).containsExactly("Yes");
        assertThat(d.train().get(1).rejected()).containsExactly("No");
        assertThat(d.train().get(2).chosen()).containsExactly("A1", "A2");
        assertThat(d.test()).isEqualTo(d.train());
        assertThat(d.filesNotRead()).containsExactly("dataset_dict.json", "test/dataset_info.json", "test/state.json",
                "train/dataset_info.json", "train/state.json");
        Path bad = dir.resolve("bad.arrow");
        WrpoArrowFixture.write(bad, true, 2, 2);
        assertThatThrownBy(() -> PreferenceDataset.read(bad)).hasMessageStartingWith(bad.toString())
                .hasMessageContaining("row index 2: \"chosen\"[1]: a message needs a string \"content\"");
    }

    @Test
    void aHubSnapshotOfParquetSplitsIsReadFieldByField() throws Exception {
        Path data = Files.createDirectories(dir.resolve("wrpo/data"));
        WrpoParquetFixture.write(data.resolve("train-00000-of-00001.parquet"), ParquetTestWriter.Codec.SNAPPY, false,
                2, -1);
        WrpoParquetFixture.write(data.resolve("test-00000-of-00001.parquet"), ParquetTestWriter.Codec.ZSTD, true, 4,
                -1);
        PreferenceDataset d = PreferenceDataset.read(dir.resolve("wrpo"));
        assertThat(d.trainSplit()).isEqualTo("train");
        assertThat(d.testSplit()).isEqualTo("test");
        assertThat(d.train()).hasSize(4);
        assertThat(d.test()).isEqualTo(d.train());
        assertThat(d.train()).extracting(PreferenceRecord::promptId).containsExactly("p0", "p1", null, "p3");
        PreferenceRecord r0 = d.train().get(0);
        assertThat(r0.prompt()).containsExactly(ChatMessage.user("Translate: kiitos"));
        assertThat(r0.sourceChosen()).isEqualTo("Thank you.");
        assertThat(r0.targetChosen()).isEqualTo("Thanks!");
        assertThat(r0.rejectedResponse()).isEqualTo("Hello.");
        assertThat(r0.split()).isEqualTo(Split.PREFERENCE);
        PreferenceRecord r1 = d.train().get(1);
        assertThat(r1.chosen()).containsExactly("Hi"); // one chosen: y_ws = y_wt
        assertThat(r1.rejected()).containsExactly("Bye");
        PreferenceRecord r2 = d.train().get(2);
        assertThat(r2.prompt()).containsExactly(new ChatMessage("user", "Count to 2"));
        assertThat(r2.chosen()).containsExactly("1 2", "1, 2");
        assertThat(r2.rejected()).containsExactly("3");
        assertThat(d.train().get(3).chosen()).containsExactly("Hello!");
        assertThat(d.train().get(3).rejected()).containsExactly("No.");
        assertThat(d.blankLines()).isZero();
        // one Parquet file alone is the train split
        PreferenceDataset file = PreferenceDataset.read(data.resolve("test-00000-of-00001.parquet"));
        assertThat(file.trainSplit()).isEqualTo("file");
        assertThat(file.train()).isEqualTo(d.train());
    }

    @Test
    void aParquetRowErrorNamesTheFileTheRowIndexAndTheField() throws Exception {
        Path file = dir.resolve("train.parquet");
        WrpoParquetFixture.write(file, ParquetTestWriter.Codec.UNCOMPRESSED, false, 4, 2);
        assertThatThrownBy(() -> PreferenceDataset.read(file)).hasMessageStartingWith(file.toString())
                .hasMessageContaining("row index 2: \"chosen\"[0]: a message needs a string \"content\"");
    }

    @Test
    void theSplitAskedForIsTrainedOnAndNeverAlsoHeldOut() throws Exception {
        Path data = Files.createDirectories(dir.resolve("ds/data"));
        Files.writeString(data.resolve("train-00000-of-00001.jsonl"), PUBLISHED.replace("3ebac28", "tr"));
        Files.writeString(data.resolve("test-00000-of-00001.jsonl"), PUBLISHED.replace("3ebac28", "te"));
        PreferenceDataset test = PreferenceDataset.read(dir.resolve("ds"), "test");
        assertThat(test.trainSplit()).isEqualTo("test");
        assertThat(test.train()).extracting(PreferenceRecord::promptId).containsExactly("te");
        assertThat(test.testSplit()).isNull();
        assertThat(test.test()).isEmpty();
        assertThat(test.otherSplits()).containsExactly("train");
        PreferenceDataset train = PreferenceDataset.read(dir.resolve("ds"), "train");
        assertThat(train.train()).extracting(PreferenceRecord::promptId).containsExactly("tr");
        assertThat(train.test()).extracting(PreferenceRecord::promptId).containsExactly("te");
        assertThatThrownBy(() -> PreferenceDataset.read(dir.resolve("ds"), "validation"))
                .hasMessageContaining("no split 'validation'").hasMessageContaining("[test, train]");
        assertThatThrownBy(() -> PreferenceDataset.read(data.resolve("test-00000-of-00001.jsonl"), "test"))
                .hasMessageContaining("split 'test'").hasMessageContaining("is one file");
    }

    @Test
    void heldOutDataIsTheTestSplitOfADirectoryEvenWithoutATrainSplit() throws Exception {
        Path only = Files.createDirectories(dir.resolve("eval/data"));
        Files.writeString(only.resolve("test_prefs-00000-of-00001.jsonl"), PUBLISHED.replace("3ebac28", "t"));
        PreferenceDataset held = PreferenceDataset.readHeldOut(dir.resolve("eval"));
        assertThat(held.trainSplit()).isEqualTo("test_prefs");
        assertThat(held.train()).extracting(PreferenceRecord::promptId).containsExactly("t");
        Files.writeString(only.resolve("train-00000-of-00001.jsonl"), PUBLISHED.replace("3ebac28", "tr") + "\n");
        assertThat(PreferenceDataset.readHeldOut(dir.resolve("eval")).train()).extracting(PreferenceRecord::promptId)
                .containsExactly("t");
        Files.delete(only.resolve("test_prefs-00000-of-00001.jsonl"));
        PreferenceDataset trainOnly = PreferenceDataset.readHeldOut(dir.resolve("eval"));
        assertThat(trainOnly.train()).extracting(PreferenceRecord::promptId).containsExactly("tr");
        assertThat(trainOnly.blankLines()).isEqualTo(1);
    }

    @Test
    void layoutProblemsNameTheDataNotItsPath() throws Exception {
        Path data = Files.createDirectories(dir.resolve("ds/data"));
        Files.writeString(data.resolve("test-00000-of-00001.jsonl"), PUBLISHED);
        assertThat(PreferenceDataset.layoutProblems(dir.resolve("ds"), null, "data 'ds'"))
                .containsExactly("data 'ds' has no train split (a train or train_prefs file); found splits [test]");
        assertThat(PreferenceDataset.layoutProblems(dir.resolve("ds"), "test", "data 'ds'")).isEmpty();
        assertThat(PreferenceDataset.layoutProblems(dir.resolve("nothing"), null, "data 'x'"))
                .containsExactly("data 'x' is neither a file nor a directory");
    }

    @Test
    void rowErrorsNameTheFileLineAndField() throws Exception {
        Path file = dir.resolve("bad.jsonl");
        Files.writeString(file, PUBLISHED + PUBLISHED.replace("{\"content\": \"Thanks!\", \"role\": \"assistant\"}",
                "{\"content\": 7, \"role\": \"assistant\"}"));
        assertThatThrownBy(() -> PreferenceDataset.read(file)).hasMessageContaining("line 2")
                .hasMessageContaining("\"chosen\"[1]: a message needs a string \"content\"");
        Files.writeString(file, "{\"prompt\": {\"content\": \"q\"}, \"chosen\": [\"a\"], \"rejected\": [\"b\"]}\n");
        assertThatThrownBy(() -> PreferenceDataset.read(file)).hasMessageContaining("line 1")
                .hasMessageContaining("\"prompt\": a message needs a string \"role\"");
        Files.writeString(file, "{\"prompt_id\": [1], \"prompt\": \"q\", \"chosen\": [\"a\"], \"rejected\": [\"b\"]}\n");
        assertThatThrownBy(() -> PreferenceDataset.read(file)).hasMessageContaining("\"prompt_id\" must be");
        Files.writeString(file, "{\"chosen\": [\"a\"], \"rejected\": [\"b\"]}\n");
        assertThatThrownBy(() -> PreferenceDataset.read(file)).hasMessageContaining("\"prompt\" must be")
                .hasMessageContaining("(missing)");
    }

    @Test
    void splitNamesFollowTheFileOrItsFolder() {
        assertThat(PreferenceDataset.splitOf(Path.of("d/train-00000-of-00003-1a2b3c.jsonl"))).isEqualTo("train");
        assertThat(PreferenceDataset.splitOf(Path.of("d/test.jsonl"))).isEqualTo("test");
        assertThat(PreferenceDataset.splitOf(Path.of("ds/test/data-00000-of-00001.arrow"))).isEqualTo("test");
        assertThat(List.of(PreferenceDataset.splitOf(Path.of("x/train_prefs.jsonl")))).containsExactly("train_prefs");
    }
}
