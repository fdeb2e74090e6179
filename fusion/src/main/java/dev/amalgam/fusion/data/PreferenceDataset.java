package dev.amalgam.fusion.data;

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
 * <p>A file is one JSONL file ({@link PreferenceJsonl}): all of it is the train split. A directory is read the way
 * a Hugging Face dataset lays out its splits: every {@code .jsonl} file under it (three levels deep at most) belongs
 * to the split its name says, {@code <split>.jsonl} or {@code <split>-00000-of-00002.jsonl} (a hub snapshot's
 * {@code data/train-00000-of-00001...}), or, for a file named {@code data-...} ({@code datasets.save_to_disk}), the
 * split its folder says ({@code train/data-00000-of-00001...}). Shards are read in name order. The train split is
 * {@code train}, else {@code train_prefs}; the test split {@code test}, else {@code test_prefs}; other splits are
 * listed in {@link #otherSplits} and not read. Parquet and Arrow files are recognised but not readable yet: a split
 * that holds one fails with its file name, so nothing is skipped unseen.
 *
 * <pre>{@code
 * PreferenceDataset d = PreferenceDataset.read(Path.of("ultrafeedback_wrpo"));
 * d.train(); d.test(); d.blankLines();
 * }</pre>
 *
 * @param train records of the train split
 * @param test records of the test split (empty for a file, or a directory without one)
 * @param trainSplit the split read as train ({@code file} for a single file)
 * @param testSplit the split read as test, or null
 * @param otherSplits splits present but not read
 * @param blankLines blank lines skipped in the files read
 */
public record PreferenceDataset(List<PreferenceRecord> train, List<PreferenceRecord> test, String trainSplit,
        String testSplit, List<String> otherSplits, long blankLines) {

    private static final Pattern SHARD = Pattern.compile("(.+?)-\\d{5}-of-\\d{5}(-[0-9a-zA-Z]+)?");
    private static final List<String> TRAIN = List.of("train", "train_prefs");
    private static final List<String> TEST = List.of("test", "test_prefs");

    /** Reads a JSONL file or a dataset directory. */
    public static PreferenceDataset read(Path path) {
        if (Files.isRegularFile(path)) {
            List<PreferenceRecord> records = new ArrayList<>();
            long blank = readFile(path, records);
            return new PreferenceDataset(records, List.of(), "file", null, List.of(), blank);
        }
        if (!Files.isDirectory(path)) {
            throw new IllegalArgumentException(path + " is neither a file nor a directory");
        }
        Map<String, List<Path>> splits = splits(path);
        String train = TRAIN.stream().filter(splits::containsKey).findFirst().orElseThrow(
                () -> new IllegalArgumentException(path + " has no train split (a train or train_prefs file); found "
                        + (splits.isEmpty() ? "no .jsonl, .parquet or .arrow file" : "splits " + splits.keySet())));
        String test = TEST.stream().filter(splits::containsKey).findFirst().orElse(null);
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
        return new PreferenceDataset(trainRecords, testRecords, train, test, other, blank);
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
        if (ext != null && !ext.equals(".jsonl")) {
            throw new IllegalArgumentException(f + ": " + (ext.equals(".parquet") ? "Parquet" : "Arrow")
                    + " files are not supported yet; convert the split to JSONL (one record a line)");
        }
        return JsonLines.read(f, json -> into.add(PreferenceJsonl.parse(json)));
    }
}
