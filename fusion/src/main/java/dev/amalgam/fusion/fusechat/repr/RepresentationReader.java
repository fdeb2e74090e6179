package dev.amalgam.fusion.fusechat.repr;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a representation DATASET ({@link RepresentationFormat}): the meta file at once, the samples streamed in
 * order (each read from {@value RepresentationFormat#TOPK} at its offset). Every inconsistency fails with the index
 * line it is on.
 *
 * <pre>{@code
 * try (RepresentationReader r = RepresentationReader.open(dir)) {
 *     r.forEach(s -> use(s.topK(), s.metricCe()));
 * }
 * }</pre>
 */
public final class RepresentationReader implements AutoCloseable {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private final Path dir;
    private final JsonNode meta;
    private final int k;
    private final int vocabSize;
    private final FileChannel topk;

    private RepresentationReader(Path dir, JsonNode meta, FileChannel topk) {
        this.dir = dir;
        this.meta = meta;
        this.k = meta.path("top_k").asInt();
        this.vocabSize = meta.path("vocab_size").asInt();
        this.topk = topk;
    }

    /** Opens the dataset in {@code dir}; refuses one of another format or version, or unfinished. */
    public static RepresentationReader open(Path dir) {
        Path metaFile = dir.resolve(RepresentationFormat.META);
        if (!Files.isRegularFile(metaFile)) {
            throw new IllegalArgumentException(dir + " is not a representation dataset (no "
                    + RepresentationFormat.META + "; an unfinished write has none)");
        }
        try {
            JsonNode meta = MAPPER.readTree(Files.readString(metaFile));
            if (!RepresentationFormat.FORMAT.equals(meta.path("format").asString(""))) {
                throw new IllegalArgumentException(metaFile + ": format is not " + RepresentationFormat.FORMAT);
            }
            if (meta.path("version").asInt(-1) != RepresentationFormat.VERSION) {
                throw new IllegalArgumentException(metaFile + ": version " + meta.path("version")
                        + " is not supported (only " + RepresentationFormat.VERSION + ")");
            }
            if (meta.path("top_k").asInt(0) < 1 || meta.path("vocab_size").asInt(0) < 1) {
                throw new IllegalArgumentException(metaFile + ": top_k and vocab_size must be positive integers");
            }
            if (!"little_endian".equals(meta.path("byte_order").asString(""))) {
                throw new IllegalArgumentException(metaFile + ": byte_order must be little_endian");
            }
            return new RepresentationReader(dir, meta,
                    FileChannel.open(dir.resolve(RepresentationFormat.TOPK), StandardOpenOption.READ));
        } catch (JacksonException e) {
            throw new IllegalArgumentException(metaFile + ": not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + dir, e);
        }
    }

    /** The meta file's fields. */
    public JsonNode meta() {
        return meta;
    }

    public int k() {
        return k;
    }

    public int vocabSize() {
        return vocabSize;
    }

    public long samples() {
        return meta.path("samples").asLong();
    }

    /** Streams every sample, in index order. */
    public void forEach(Consumer<SampleRepresentation> sink) {
        Path indexFile = dir.resolve(RepresentationFormat.INDEX);
        try (BufferedReader r = Files.newBufferedReader(indexFile, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = r.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                SampleRepresentation s;
                try {
                    s = sample(MAPPER.readTree(line));
                } catch (JacksonException | IllegalArgumentException e) {
                    throw new IllegalArgumentException(indexFile + " line " + number + ": " + e.getMessage(), e);
                }
                sink.accept(s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + indexFile, e);
        }
    }

    /** Every sample of a (small) dataset. */
    public List<SampleRepresentation> readAll() {
        List<SampleRepresentation> out = new ArrayList<>();
        forEach(out::add);
        return out;
    }

    private SampleRepresentation sample(JsonNode line) throws IOException {
        if (!line.path("id").isString()) {
            throw new IllegalArgumentException("id must be a string");
        }
        String id = line.path("id").asString();
        if (!line.path("offset").isIntegralNumber() || !line.path("length").isIntegralNumber()) {
            throw new IllegalArgumentException("sample " + id + ": offset and length must be integers");
        }
        long offset = line.path("offset").asLong();
        int length = line.path("length").asInt();
        JsonNode ce = line.path("metric_ce");
        if (!ce.isNull() && !ce.isNumber()) {
            throw new IllegalArgumentException("sample " + id + ": metric_ce must be a number or null");
        }
        double metricCe = ce.isNull() ? Double.NaN : ce.asDouble();
        int[] inputIds = ints(line.path("input_ids"), "input_ids", id);
        int[] labels = ints(line.path("labels"), "labels", id);
        if (inputIds.length != length || labels.length != length) {
            throw new IllegalArgumentException("sample " + id + ": length " + length + " but " + inputIds.length
                    + " input_ids and " + labels.length + " labels");
        }
        long bytes = length * RepresentationFormat.bytesPerPosition(k);
        if (length < 1 || offset < 0 || offset + bytes > topk.size()
                || offset % RepresentationFormat.bytesPerPosition(k) != 0) {
            throw new IllegalArgumentException("sample " + id + ": offset " + offset + " and length " + length
                    + " do not lie in " + RepresentationFormat.TOPK + " (" + topk.size() + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.hasRemaining()) {
            if (topk.read(buf, offset + buf.position()) < 0) {
                throw new IllegalArgumentException("sample " + id + ": " + RepresentationFormat.TOPK + " ends early");
            }
        }
        buf.flip();
        int[] topIds = new int[length * k];
        float[] topLogits = new float[length * k];
        for (int t = 0; t < length; t++) {
            for (int j = 0; j < k; j++) {
                topLogits[t * k + j] = buf.getFloat();
            }
            for (int j = 0; j < k; j++) {
                int v = buf.getInt();
                if (v != SampleRepresentation.NO_TOKEN && (v < 0 || v >= vocabSize)) {
                    throw new IllegalArgumentException("sample " + id + " position " + t + ": id " + v
                            + " is outside the vocabulary [0, " + vocabSize + ")");
                }
                topIds[t * k + j] = v;
            }
        }
        return new SampleRepresentation(id, inputIds, labels, metricCe, k, topIds, topLogits);
    }

    private static int[] ints(JsonNode node, String field, String id) {
        if (!node.isArray()) {
            throw new IllegalArgumentException("sample " + id + ": " + field + " must be an array of integers");
        }
        int[] out = new int[node.size()];
        for (int i = 0; i < out.length; i++) {
            if (!node.get(i).isIntegralNumber()) {
                throw new IllegalArgumentException("sample " + id + ": " + field + "[" + i + "] is not an integer");
            }
            out[i] = node.get(i).asInt();
        }
        return out;
    }

    @Override
    public void close() {
        try {
            topk.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
