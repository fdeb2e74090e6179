package dev.amalgam.fusion.fusechat.repr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.fusion.fusechat.align.TopK;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepresentationFormatTest {

    @TempDir
    Path dir;

    static SampleRepresentation random(String id, int n, int k, SplittableRandom rnd, double metric) {
        int[] ids = new int[n];
        int[] labels = new int[n];
        int[] top = new int[n * k];
        float[] logits = new float[n * k];
        for (int t = 0; t < n; t++) {
            ids[t] = rnd.nextInt(50);
            labels[t] = t > 0 && rnd.nextBoolean() ? ids[t] : -100;
            for (int j = 0; j < k; j++) {
                top[t * k + j] = rnd.nextInt(50);
                logits[t * k + j] = (float) rnd.nextGaussian();
            }
        }
        top[n * k - 1] = SampleRepresentation.NO_TOKEN;
        logits[n * k - 1] = Float.NEGATIVE_INFINITY;
        return new SampleRepresentation(id, ids, labels, metric, k, top, logits);
    }

    @Test
    void writtenSamplesReadBackBitForBitWithNanMetricAndUnusedSlots() {
        SplittableRandom rnd = new SplittableRandom(3);
        List<SampleRepresentation> samples = List.of(random("a", 5, 3, rnd, 1.25), random("b", 1, 3, rnd, Double.NaN),
                random("c", 7, 3, rnd, 0.5));
        try (RepresentationWriter w = RepresentationWriter.create(dir, 3, 50, Map.of("model", "m"))) {
            samples.forEach(w::write);
            w.finish();
        }
        try (RepresentationReader r = RepresentationReader.open(dir)) {
            assertThat(r.k()).isEqualTo(3);
            assertThat(r.samples()).isEqualTo(3);
            assertThat(r.meta().path("positions").asLong()).isEqualTo(13);
            assertThat(r.meta().path("model").asString()).isEqualTo("m");
            List<SampleRepresentation> back = r.readAll();
            assertThat(back).isEqualTo(samples);
            assertThat(back.get(1).metricCe()).isNaN();
            assertThat(back.get(0).topK(4).size()).as("the unused last slot is left out").isEqualTo(2);
        }
    }

    @Test
    void theBinaryFileIsLittleEndianFloatsThenIdsPerPositionAtTheIndexedOffset() throws Exception {
        SampleRepresentation a = SampleRepresentation.of(new TokenizedSample("a", new int[] {4, 5}, new int[] {-100, 5}),
                0.7, 2, List.of(new TopK(new int[] {9, 1}, new float[] {2.5f, -1f}), TopK.oneHot(3)));
        SampleRepresentation b = SampleRepresentation.of(new TokenizedSample("b", new int[] {6}, new int[] {-100}),
                Double.NaN, 2, List.of(new TopK(new int[] {7, 8}, new float[] {0.25f, 0.125f})));
        try (RepresentationWriter w = RepresentationWriter.create(dir, 2, 10, Map.of())) {
            w.write(a);
            w.write(b);
            w.finish();
        }
        ByteBuffer bin = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(RepresentationFormat.TOPK)))
                .order(ByteOrder.LITTLE_ENDIAN);
        assertThat(bin.capacity()).isEqualTo(3 * 16);
        assertThat(bin.getFloat(0)).isEqualTo(2.5f);
        assertThat(bin.getFloat(4)).isEqualTo(-1f);
        assertThat(bin.getInt(8)).isEqualTo(9);
        assertThat(bin.getInt(12)).isEqualTo(1);
        assertThat(bin.getFloat(16)).isEqualTo(1f);
        assertThat(bin.getFloat(20)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(bin.getInt(24)).isEqualTo(3);
        assertThat(bin.getInt(28)).isEqualTo(-1);
        assertThat(bin.getInt(32 + 8)).isEqualTo(7);
        List<String> index = Files.readAllLines(dir.resolve(RepresentationFormat.INDEX));
        assertThat(index.get(0)).contains("\"offset\":0", "\"length\":2", "\"input_ids\":[4,5]", "\"labels\":[-100,5]");
        assertThat(index.get(1)).contains("\"offset\":32", "\"metric_ce\":null");
    }

    @Test
    void anUnfinishedWriteIsNotADatasetAndABadOffsetNamesItsLine() throws Exception {
        SplittableRandom rnd = new SplittableRandom(4);
        try (RepresentationWriter w = RepresentationWriter.create(dir, 2, 50, Map.of())) {
            w.write(random("a", 3, 2, rnd, 1));
            assertThatThrownBy(() -> w.write(random("a", 2, 2, rnd, 1))).hasMessageContaining("duplicate sample id a");
        }
        assertThatThrownBy(() -> RepresentationReader.open(dir)).hasMessageContaining("unfinished");
        Path other = dir.resolve("x");
        try (RepresentationWriter w = RepresentationWriter.create(other, 2, 50, Map.of())) {
            w.write(random("a", 3, 2, rnd, 1));
            w.finish();
        }
        Path index = other.resolve(RepresentationFormat.INDEX);
        Files.writeString(index, Files.readString(index).replace("\"offset\":0", "\"offset\":16"));
        try (RepresentationReader r = RepresentationReader.open(other)) {
            assertThatThrownBy(r::readAll).hasMessageContaining("line 1").hasMessageContaining("offset 16");
        }
    }
}
