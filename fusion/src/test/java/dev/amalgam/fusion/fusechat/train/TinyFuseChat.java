package dev.amalgam.fusion.fusechat.train;

import dev.amalgam.fusion.fusechat.repr.ModelRepresentations;
import dev.amalgam.fusion.fusechat.repr.RepresentationSettings;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.job.Progress;
import dev.amalgam.modelengine.EngineOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A pivot and a source of different vocabularies, a small chat corpus and their representation datasets, for the
 * training tests (two tiny Llamas; a random tiny Qwen2 with tied embeddings has a metric_ce far above any Llama's,
 * so MinCE would never pick it). The pivot is the tiny byte-level tokenizer (one token a byte); the source's tokenizer has BPE
 * merges ("Ġab", "cd", "ea", ...) in the id slots of bytes 0x80..0x85 (never in ASCII text), so the two tokenise the
 * same text into different sequences and the source's ids mean other strings.
 */
final class TinyFuseChat {

    /** The source's merges, in priority order, and the tokens they make. */
    static final List<String[]> MERGES = List.of(new String[] {"a", "b"}, new String[] {"c", "d"},
            new String[] {"\u0120", "a"}, new String[] {"e", "a"}, new String[] {"\u0120a", "b"},
            new String[] {"\u0120", "e"});

    final Path pivot;
    final Path source;
    final Path trainCorpus;
    final Path heldOutCorpus;
    final Path pivotTrain;
    final Path sourceTrain;
    final Path pivotHeldOut;
    final Path sourceHeldOut;

    private TinyFuseChat(Path dir, int trainSamples, int heldOutSamples) {
        pivot = TinyData.llama(dir.resolve("pivot"), 31);
        source = TinyData.llama(dir.resolve("source"), 32);
        addMerges(source);
        trainCorpus = corpus(dir.resolve("train.jsonl"), trainSamples, 1);
        heldOutCorpus = corpus(dir.resolve("held-out.jsonl"), heldOutSamples, 2);
        RepresentationSettings s = new RepresentationSettings(5, 128, 4);
        pivotTrain = dir.resolve("repr/pivot-train");
        sourceTrain = dir.resolve("repr/source-train");
        pivotHeldOut = dir.resolve("repr/pivot-held-out");
        sourceHeldOut = dir.resolve("repr/source-held-out");
        ModelRepresentations.run(pivot, pivot, trainCorpus, pivotTrain, s, EngineOptions.cpu(), Progress.NONE);
        ModelRepresentations.run(source, pivot, trainCorpus, sourceTrain, s, EngineOptions.cpu(), Progress.NONE);
        ModelRepresentations.run(pivot, pivot, heldOutCorpus, pivotHeldOut, s, EngineOptions.cpu(), Progress.NONE);
        ModelRepresentations.run(source, pivot, heldOutCorpus, sourceHeldOut, s, EngineOptions.cpu(), Progress.NONE);
    }

    static TinyFuseChat write(Path dir, int trainSamples, int heldOutSamples) {
        return new TinyFuseChat(dir, trainSamples, heldOutSamples);
    }

    /** ShareGPT samples: a question of x/y/z letters, an answer of words of a..e. */
    static Path corpus(Path file, int n, long seed) {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String q = "q " + word(r, "xyz", 3);
            String a = word(r, "abcde", 4) + " " + word(r, "abcde", 3) + " " + word(r, "abcde", 5);
            sb.append("{\"id\": \"s").append(seed).append('-').append(i).append("\", \"conversations\": [")
                    .append("{\"from\": \"human\", \"value\": \"").append(q).append("\"}, ")
                    .append("{\"from\": \"gpt\", \"value\": \"").append(a).append("\"}]}\n");
        }
        try {
            Files.writeString(file, sb);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    private static String word(Random r, String alphabet, int len) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    /** Rewrites the model's tokenizer.json: the merged tokens take the ids 128.. of bytes that ASCII never uses. */
    static void addMerges(Path modelDir) {
        JsonMapper mapper = JsonMapper.builder().build();
        Path file = modelDir.resolve("tokenizer.json");
        try {
            ObjectNode root = (ObjectNode) mapper.readTree(Files.readString(file));
            ObjectNode model = (ObjectNode) root.get("model");
            ObjectNode vocab = (ObjectNode) model.get("vocab");
            List<String> freed = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                int id = e.getValue().asInt();
                if (id >= 128 && id < 128 + MERGES.size()) {
                    freed.add(e.getKey());
                }
            }
            freed.forEach(vocab::remove);
            ArrayNode merges = model.putArray("merges");
            for (int i = 0; i < MERGES.size(); i++) {
                String[] m = MERGES.get(i);
                vocab.put(m[0] + m[1], 128 + i);
                merges.add(m[0] + " " + m[1]);
            }
            Files.writeString(file, mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
