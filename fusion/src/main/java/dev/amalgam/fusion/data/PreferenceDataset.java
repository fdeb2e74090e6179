package dev.amalgam.fusion.data;

import dev.amalgam.fusion.data.arrow.ArrowStreamFile;
import dev.amalgam.fusion.data.parquet.ParquetFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Preference data as a file or as a dataset directory, read into its train and test splits.
 *
 * <p>A file is one JSONL file ({@link PreferenceJsonl}), one Parquet file ({@link ParquetFile}) or one Arrow IPC
 * stream ({@link ArrowStreamFile}); each Parquet/Arrow row is read as the JSON object it would be in JSONL. All of
 * a file is the train split. A directory is read the way a Hugging Face dataset lays out its splits: every {@code
 * .jsonl}, {@code .parquet} or {@code .arrow} file under it (three levels deep at most) belongs to the split its
 * name says, {@code <split>.jsonl} or {@code <split>-00000-of-00002.parquet} (a hub snapshot's {@code
 * data/train-00000-of-00001...}), or, for a file named {@code data-...}, the split its folder says ({@code
 * train/data-00000-of-00001.arrow}, the {@code datasets.save_to_disk} layout). Shards are read in name order. The
 * train split is the one asked for, else {@code train}, else {@code train_prefs}; the test split {@code test}, else
 * {@code test_prefs} (none when it is the split trained on); other splits are listed in {@link #otherSplits} and
 * not read.
 *
 * <p>A bad record fails with its file, its line (JSONL) or row index (Parquet, Arrow; 0-based as {@code
 * dataset[i]}) and the field. Blank JSONL lines are skipped and counted in {@link #blankLines}.
 *
 * <pre>{@code
 * PreferenceDataset d = PreferenceDataset.read(Path.of("ultrafeedback_wrpo"));
 * PreferenceDataset t = PreferenceDataset.read(Path.of("ultrafeedback_wrpo"), "test");
 * d.train(); d.test(); d.blankLines();
 * }</pre>
 *
 * @param train records of the train split
 * @param test records of the test split (empty for a file, or a directory without one)
 * @param trainSplit the split read as train ({@code file} for a single file)
 * @param testSplit the split read as test, or null
 * @param otherSplits splits present but not read
 * @param blankLines blank lines skipped in the files read
 * @param filesNotRead files of the directory that are no data files (a dataset card, {@code dataset_info.json},
 *     {@code state.json}, a CSV), relative to it: listed so that nothing is passed over unseen
 */
public record PreferenceDataset(List<PreferenceRecord> train, List<PreferenceRecord> test, String trainSplit,
        String testSplit, List<String> otherSplits, long blankLines, List<String> filesNotRead) {

    private static final Pattern SHARD = Pattern.compile("(.+?)-\\d{5}-of-\\d{5}(-[0-9a-zA-Z]+)?");
    private static final List<String> TRAIN = List.of("train", "train_prefs");
    private static final List<String> TEST = List.of("test", "test_prefs");

    /** Reads a JSONL or Parquet file, or a dataset directory (train split: {@code train}, else {@code train_prefs}). */
    public static PreferenceDataset read(Path path) {
        return read(path, null);
    }

    /**
     * Reads a JSONL or Parquet file, or a dataset directory whose split {@code split} is trained on (null: {@code
     * train}, else {@code train_prefs}). A file has no splits: {@code split} must be null or {@code train} there.
     */
    public static PreferenceDataset read(Path path, String split) {
        if (Files.isRegularFile(path)) {
            checkFileSplit(path, split);
            List<PreferenceRecord> records = new ArrayList<>();
            long blank = readFile(path, records);
            return new PreferenceDataset(records, List.of(), "file", null, List.of(), blank, List.of());
        }
        if (!Files.isDirectory(path)) {
            throw new IllegalArgumentException(path + " is neither a file nor a directory");
        }
        Map<String, List<Path>> splits = splits(path);
        String train = trainSplit(path.toString(), splits, split);
        // held out: the test split, never the one trained on
        String test = TEST.stream().filter(splits::containsKey).filter(s -> !s.equals(train)).findFirst().orElse(null);
        List<String> other = splits.keySet().stream().filter(s -> !s.equals(train) && !s.equals(test)).toList();
        List<PreferenceRecord> trainRecords = new ArrayList<>();
        List<PreferenceRecord> testRecords = new ArrayList<>();
        long blank = 0;
        for (Path f : splits.get(train)) {
            blank += readFile(f, trainRecords);
        }
        if (test != null) {
            for (Path f : splits.get(test)) {
                blank += readFile(f, testRecords);
            }
        }
        return new PreferenceDataset(trainRecords, testRecords, train, test, other, blank, filesNotRead(path));
    }

    /**
     * Held-out data, read as the {@link #train} of the result: all of a file, or a directory's test split ({@code
     * test}, else {@code test_prefs}), else its train split.
     */
    public static PreferenceDataset readHeldOut(Path path) {
        if (Files.isDirectory(path)) {
            Map<String, List<Path>> splits = splits(path);
            String test = TEST.stream().filter(splits::containsKey).findFirst().orElse(null);
            if (test != null) {
                return read(path, test);
            }
        }
        return read(path);
    }

    /**
     * What {@link #read(Path, String)} would refuse before reading any record: a split asked of a file, a directory
     * without that split or without a train split; from file names alone, for a 422 before a job is queued. Each
     * problem names the data as {@code name}, never the path.
     */
    public static List<String> layoutProblems(Path path, String split, String name) {
        try {
            if (Files.isRegularFile(path)) {
                checkFileSplit(path, split);
            } else if (Files.isDirectory(path)) {
                trainSplit(name, splits(path), split);
            } else {
                return List.of(name + " is neither a file nor a directory");
            }
            return List.of();
        } catch (IllegalArgumentException e) {
            return List.of(e.getMessage().replace(path.toString(), name));
        }
    }

    private static void checkFileSplit(Path file, String split) {
        if (split != null && !split.equals("train")) {
            throw new IllegalArgumentException("split '" + split + "': " + file.getFileName()
                    + " is one file, not a dataset directory with splits");
        }
    }

    private static String trainSplit(String where, Map<String, List<Path>> splits, String split) {
        String found = splits.isEmpty() ? "no .jsonl, .parquet or .arrow file" : "splits " + splits.keySet();
        if (split != null) {
            if (!splits.containsKey(split)) {
                throw new IllegalArgumentException(where + " has no split '" + split + "'; found " + found);
            }
            return split;
        }
        return TRAIN.stream().filter(splits::containsKey).findFirst().orElseThrow(() -> new IllegalArgumentException(
                where + " has no train split (a train or train_prefs file); found " + found));
    }

    /** The regular files under {@code dir} (three levels, hidden ones aside) that are no data files. */
    static List<String> filesNotRead(Path dir) {
        try (Stream<Path> files = Files.walk(dir, 3)) {
            return files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
                    .filter(f -> extension(f) == null).sorted()
                    .map(f -> dir.relativize(f).toString().replace('\\', '/')).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** The data files under {@code dir} by split name, each split's files in name order. */
    static Map<String, List<Path>> splits(Path dir) {
        Map<String, List<Path>> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir, 3)) {
            files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
                    .filter(f -> extension(f) != null).sorted()
                    .forEach(f -> out.computeIfAbsent(splitOf(f), k -> new ArrayList<>()).add(f));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return out;
    }

    private static String extension(Path f) {
        String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
        for (String ext : List.of(".jsonl", ".parquet", ".arrow")) {
            if (name.endsWith(ext)) {
                return ext;
            }
        }
        return null;
    }

    /** {@code train-00000-of-00002.jsonl} -> train; {@code test/data-00000-of-00001.arrow} -> test. */
    static String splitOf(Path f) {
        String name = f.getFileName().toString();
        String stem = name.substring(0, name.length() - extension(f).length());
        Matcher m = SHARD.matcher(stem);
        String split = m.matches() ? m.group(1) : stem;
        if (split.equals("data") && f.getParent() != null && f.getParent().getFileName() != null) {
            return f.getParent().getFileName().toString();
        }
        return split;
    }

    private static long readFile(Path f, List<PreferenceRecord> into) {
        String ext = extension(f);
        ParquetFile.RowSink rows = (index, row) -> {
            try {
                into.add(PreferenceJsonl.parse(row));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(f + " row index " + index + ": " + e.getMessage(), e);
            }
        };
        if (".parquet".equals(ext)) {
            ParquetFile.read(f, rows);
            return 0;
        }
        if (".arrow".equals(ext)) {
            ArrowStreamFile.read(f, rows::accept);
            return 0;
        }
        return JsonLines.read(f, json -> into.add(PreferenceJsonl.parse(json)));
    }
}
