package dev.amalgam.fusion.fusechat.repr;

import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes a representation DATASET ({@link RepresentationFormat}) one sample at a time; {@link #finish()} writes
 * {@value RepresentationFormat#META} last, so a directory without it is an unfinished (failed or cancelled) write.
 *
 * <pre>{@code
 * try (RepresentationWriter w = RepresentationWriter.create(dir, 10, 32000, Map.of("model", "pivot"))) {
 *     w.write(sample);
 *     w.finish();
 * }
 * }</pre>
 */
public final class RepresentationWriter implements AutoCloseable {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private final Path dir;
    private final int k;
    private final int vocabSize;
    private final Map<String, Object> info;
    private final BufferedWriter index;
    private final OutputStream topk;
    private final ByteBuffer row;
    private final Set<String> ids = new HashSet<>();
    private long positions;
    private long samples;
    private boolean finished;

    private RepresentationWriter(Path dir, int k, int vocabSize, Map<String, Object> info) throws IOException {
        this.dir = dir;
        this.k = k;
        this.vocabSize = vocabSize;
        this.info = new LinkedHashMap<>(info);
        this.index = Files.newBufferedWriter(dir.resolve(RepresentationFormat.INDEX), StandardCharsets.UTF_8);
        this.topk = new BufferedOutputStream(Files.newOutputStream(dir.resolve(RepresentationFormat.TOPK)), 1 << 20);
        this.row = ByteBuffer.allocate((int) RepresentationFormat.bytesPerPosition(k)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Creates the dataset in {@code dir} (created if needed; it must not hold a dataset already).
     *
     * @param info extra fields of the meta file (model, template_model, max_length, source)
     */
    public static RepresentationWriter create(Path dir, int k, int vocabSize, Map<String, Object> info) {
        if (k < 1 || vocabSize < 1) {
            throw new IllegalArgumentException("need k >= 1 and vocabSize >= 1, got " + k + " and " + vocabSize);
        }
        try {
            Files.createDirectories(dir);
            for (String f : new String[] {RepresentationFormat.META, RepresentationFormat.INDEX, RepresentationFormat.TOPK}) {
                if (Files.exists(dir.resolve(f))) {
                    throw new IllegalArgumentException(dir + " already holds " + f);
                }
            }
            return new RepresentationWriter(dir, k, vocabSize, info);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    /** Appends one sample; ids must be unique and every top-k id inside the vocabulary. */
    public void write(SampleRepresentation s) {
        if (finished) {
            throw new IllegalStateException("the dataset in " + dir + " is already finished");
        }
        if (s.k() != k) {
            throw new IllegalArgumentException("sample " + s.id() + " has k " + s.k() + ", the dataset " + k);
        }
        if (!ids.add(s.id())) {
            throw new IllegalArgumentException("duplicate sample id " + s.id());
        }
        int[] topIds = s.topIds();
        float[] topLogits = s.topLogits();
        for (int i = 0; i < topIds.length; i++) {
            if (topIds[i] != SampleRepresentation.NO_TOKEN && (topIds[i] < 0 || topIds[i] >= vocabSize)) {
                throw new IllegalArgumentException("sample " + s.id() + " position " + i / k + ": id " + topIds[i]
                        + " is outside the vocabulary [0, " + vocabSize + ")");
            }
            if (Float.isNaN(topLogits[i])) {
                throw new IllegalArgumentException("sample " + s.id() + " position " + i / k + ": a NaN logit");
            }
        }
        ObjectNode line = MAPPER.createObjectNode();
        line.put("id", s.id());
        line.put("offset", positions * RepresentationFormat.bytesPerPosition(k));
        line.put("length", s.length());
        if (Double.isNaN(s.metricCe())) {
            line.putNull("metric_ce");
        } else {
            line.put("metric_ce", s.metricCe());
        }
        ArrayNode in = line.putArray("input_ids");
        for (int id : s.inputIds()) {
            in.add(id);
        }
        ArrayNode labels = line.putArray("labels");
        for (int l : s.labels()) {
            labels.add(l);
        }
        try {
            for (int t = 0; t < s.length(); t++) {
                row.clear();
                for (int j = 0; j < k; j++) {
                    row.putFloat(topLogits[t * k + j]);
                }
                for (int j = 0; j < k; j++) {
                    row.putInt(topIds[t * k + j]);
                }
                topk.write(row.array(), 0, row.position());
            }
            index.write(MAPPER.writeValueAsString(line));
            index.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to " + dir, e);
        }
        positions += s.length();
        samples++;
    }

    public long samples() {
        return samples;
    }

    public long positions() {
        return positions;
    }

    /** Flushes both files and writes the meta file: the dataset is complete. */
    public void finish() {
        if (finished) {
            return;
        }
        try {
            index.flush();
            topk.flush();
            ObjectNode meta = MAPPER.createObjectNode();
            meta.put("format", RepresentationFormat.FORMAT);
            meta.put("version", RepresentationFormat.VERSION);
            meta.put("top_k", k);
            meta.put("vocab_size", vocabSize);
            meta.put("samples", samples);
            meta.put("positions", positions);
            meta.put("byte_order", "little_endian");
            info.forEach((key, value) -> meta.set(key, MAPPER.valueToTree(value)));
            Files.writeString(dir.resolve(RepresentationFormat.META), MAPPER.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(meta));
            finished = true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot finish " + dir, e);
        }
    }

    /** Closes the files; without {@link #finish()} first, the directory stays unfinished (no meta file). */
    @Override
    public void close() {
        try (index; topk) {
            // both closed, the second even if the first fails
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + dir, e);
        }
    }
}
