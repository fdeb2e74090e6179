package dev.amalgam.fusion.fusechat.repr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.fusechat.align.TopK;
import dev.amalgam.job.CancelledException;
import dev.amalgam.job.Progress;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine's representations against a plain forward of each sample and a sort in plain Java. */
class ModelRepresentationsTest {

    @TempDir
    static Path tmp;
    static Path model;
    static Path pivot;
    static Path corpus;

    /** A template unlike the tiny models' own, so that a test can tell whose template rendered a sample. */
    static final String PIVOT_TEMPLATE = "{% for m in messages %}[{{ m['role'] }}]\n{{ m['content'] }}{{ eos_token }}"
            + "{% endfor %}{% if add_generation_prompt %}[assistant]\n{% endif %}";

    @BeforeAll
    static void models() throws Exception {
        model = TinyModels.write(Architecture.LLAMA, tmp.resolve("source"), TinySizes.defaults(), 7);
        pivot = TinyModels.write(Architecture.QWEN2, tmp.resolve("pivot"), TinySizes.defaults(), 8);
        Path cfg = pivot.resolve("tokenizer_config.json");
        var mapper = tools.jackson.databind.json.JsonMapper.builder().build();
        var node = (tools.jackson.databind.node.ObjectNode) mapper.readTree(Files.readString(cfg));
        node.put("chat_template", PIVOT_TEMPLATE);
        Files.writeString(cfg, mapper.writeValueAsString(node));
        corpus = tmp.resolve("chat.jsonl");
        Files.writeString(corpus, String.join("\n",
                "{\"id\": \"a\", \"conversations\": [{\"from\": \"human\", \"value\": \"hi there\"}, "
                        + "{\"from\": \"gpt\", \"value\": \"hello!\"}]}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": \"2+2?\"}, "
                        + "{\"role\": \"assistant\", \"content\": \"4\"}, {\"role\": \"user\", \"content\": \"and 3+3?\"}, "
                        + "{\"role\": \"assistant\", \"content\": \"six\"}]}",
                "{\"id\": 3, \"conversations\": [{\"from\": \"gpt\", \"value\": \"dropped\"}, {\"from\": \"human\", \"value\": \"only a question\"}]}",
                ""));
    }

    /** Plain reference: every id sorted by logit, descending, the lower id first on ties; the first k. */
    static int[] naiveTopIds(float[] row, int k, int vocab) {
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -row[i]).thenComparingInt(i -> i));
        int[] out = new int[k];
        for (int j = 0; j < k; j++) {
            out[j] = order[j];
        }
        return out;
    }

    static float[][] plainForward(LlamaModel m, int[] ids) {
        long[][] in = {Arrays.stream(ids).asLongStream().toArray()};
        try (NDManager scope = m.manager().newSubManager()) {
            NDArray logits = m.logits(scope.create(in), null, BlockMask.none());
            int v = (int) logits.getShape().get(2);
            float[] flat = logits.toFloatArray();
            float[][] rows = new float[ids.length][];
            for (int t = 0; t < ids.length; t++) {
                rows[t] = Arrays.copyOfRange(flat, t * v, (t + 1) * v);
            }
            return rows;
        }
    }

    @Test
    void storedTopKAndMetricCeEqualAPlainForwardSortedInJava() {
        Path out = tmp.resolve("repr-k5");
        RepresentationSummary summary = ModelRepresentations.run(model, pivot, corpus, out,
                new RepresentationSettings(5, 2048, 1), EngineOptions.cpu(), Progress.NONE);
        assertThat(summary.samples()).isEqualTo(3);
        assertThat(summary.unsupervisedSamples()).as("the third sample has no assistant turn left").isEqualTo(1);
        List<SampleRepresentation> samples;
        try (RepresentationReader r = RepresentationReader.open(out)) {
            samples = r.readAll();
        }
        assertThat(samples).extracting(SampleRepresentation::id).containsExactly("a", "1", "3");
        assertThat(samples.get(2).metricCe()).isNaN();
        try (LlamaModel m = CheckpointLoader.load(model, EngineOptions.cpu())) {
            int vocab = TokenizerVocabulary.read(model).size();
            for (SampleRepresentation s : samples) {
                float[][] logits = plainForward(m, s.inputIds());
                int[] labels = s.labels();
                double sum = 0;
                int n = 0;
                for (int t = 0; t < s.length(); t++) {
                    int[] expected = naiveTopIds(logits[t], 5, vocab);
                    TopK got = s.topK(t);
                    assertThat(got.ids()).as(s.id() + " position " + t).containsExactly(expected);
                    for (int j = 0; j < 5; j++) {
                        assertThat(got.logit(j)).isCloseTo(logits[t][expected[j]], within(1e-5f));
                    }
                    if (t + 1 < s.length() && labels[t + 1] != -100) {
                        double max = Double.NEGATIVE_INFINITY;
                        for (float z : logits[t]) {
                            max = Math.max(max, z);
                        }
                        double z = 0;
                        for (float v : logits[t]) {
                            z += Math.exp(v - max);
                        }
                        sum += max + Math.log(z) - logits[t][labels[t + 1]];
                        n++;
                    }
                }
                if (n > 0) {
                    assertThat(s.metricCe()).as(s.id()).isCloseTo(sum / n, within(1e-5));
                }
            }
        }
    }

    @Test
    void eachModelReadsThePivotsTemplateWithItsOwnEosAndLearnsOnlyTheReplies() {
        List<ChatSample> samples = ChatCorpus.readAll(corpus);
        try (TextTokenizer own = TextTokenizer.load(model); TextTokenizer p = TextTokenizer.load(pivot)) {
            ChatSampleTokenizer ct = new ChatSampleTokenizer(own, p.chatTemplate().orElseThrow(), 2048);
            assertThat(ct.render(samples.get(0))).isEqualTo("[user]\nhi there</s>[assistant]\nhello!</s>");
            TokenizedSample t = ct.tokenize(samples.get(1));
            StringBuilder learned = new StringBuilder();
            for (int i = 0; i < t.length(); i++) {
                if (t.labels()[i] != -100) {
                    learned.append(own.decode(new int[] {t.labels()[i]}, false)); // one id at a time: no joining spaces
                }
            }
            assertThat(learned.toString()).isEqualTo("4</s>six</s>");
            assertThat(ct.render(samples.get(2))).as("the leading gpt turn is dropped").isEqualTo("[user]\nonly a question</s>");
            assertThat(new ChatSampleTokenizer(own, p.chatTemplate().orElseThrow(), 6).tokenize(samples.get(0)).length())
                    .isEqualTo(6);
        }
    }

    @Test
    void aBatchedRunStoresWhatOneSampleAtATimeStores() {
        Path one = tmp.resolve("b1");
        Path three = tmp.resolve("b3");
        ModelRepresentations.run(model, model, corpus, one, new RepresentationSettings(4, 2048, 1), EngineOptions.cpu(),
                Progress.NONE);
        List<Double> fractions = new ArrayList<>();
        ModelRepresentations.run(model, model, corpus, three, new RepresentationSettings(4, 2048, 3), EngineOptions.cpu(),
                (f, msg) -> fractions.add(f));
        assertThat(fractions).containsExactly(1.0);
        try (RepresentationReader a = RepresentationReader.open(one); RepresentationReader b = RepresentationReader.open(three)) {
            List<SampleRepresentation> x = a.readAll();
            List<SampleRepresentation> y = b.readAll();
            for (int i = 0; i < x.size(); i++) {
                assertThat(y.get(i).topIds()).isEqualTo(x.get(i).topIds());
                float[] lx = x.get(i).topLogits();
                float[] ly = y.get(i).topLogits();
                for (int j = 0; j < lx.length; j++) {
                    assertThat(ly[j]).isCloseTo(lx[j], within(1e-4f));
                }
                if (!Double.isNaN(x.get(i).metricCe())) {
                    assertThat(y.get(i).metricCe()).isCloseTo(x.get(i).metricCe(), within(1e-5));
                }
            }
        }
    }

    @Test
    void aCancelledRunStopsBetweenSamplesAndLeavesNoDataset() {
        Path out = tmp.resolve("cancelled");
        int[] reports = {0};
        Progress cancelAfterFirst = new Progress() {
            @Override
            public void progress(double fraction, String message) {
                reports[0]++;
            }

            @Override
            public boolean isCancelled() {
                return reports[0] >= 1;
            }
        };
        assertThatThrownBy(() -> ModelRepresentations.run(model, model, corpus, out,
                new RepresentationSettings(3, 2048, 1), EngineOptions.cpu(), cancelAfterFirst))
                .isInstanceOf(CancelledException.class);
        assertThat(reports[0]).isEqualTo(1);
        assertThat(out.resolve(RepresentationFormat.META)).doesNotExist();
    }

    @Test
    void aCorpusLineWithAnUnknownSpeakerFailsWithItsLineNumber() throws Exception {
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"conversations\": [{\"from\": \"human\", \"value\": \"x\"}]}\n"
                + "{\"conversations\": [{\"from\": \"bot\", \"value\": \"x\"}]}\n");
        assertThatThrownBy(() -> ChatCorpus.readAll(bad)).hasMessageContaining("line 2")
                .hasMessageContaining("from must be human, gpt or system");
    }
}
