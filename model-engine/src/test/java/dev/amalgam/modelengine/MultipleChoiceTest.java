package dev.amalgam.modelengine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.modelengine.eval.MultipleChoice;
import dev.amalgam.modelengine.eval.MultipleChoice.TokenPair;
import dev.amalgam.modelengine.eval.MultipleChoiceDoc;
import dev.amalgam.modelengine.eval.TaskFormat;
import dev.amalgam.modelengine.eval.TaskResult;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multiple-choice scoring as lm-eval 0.4 does it: the batched log-likelihoods against a plain-Java forward per choice,
 * truncation from the left, the context/continuation split of {@code _encode_pair}, and the metrics by hand.
 */
class MultipleChoiceTest {

    @TempDir
    Path dir;

    /** Plain Java: one unbatched forward of the naive model over the window, log-softmax in double, summed. */
    private static double naiveLogLikelihood(NaiveLlama ref, TokenPair p, int maxLength) {
        int[] whole = new int[p.context().length + p.continuation().length];
        System.arraycopy(p.context(), 0, whole, 0, p.context().length);
        System.arraycopy(p.continuation(), 0, whole, p.context().length, p.continuation().length);
        int from = Math.max(0, whole.length - (maxLength + 1));
        int[] window = java.util.Arrays.copyOfRange(whole, from, whole.length);
        int[] input = java.util.Arrays.copyOf(window, window.length - 1);
        double[][] logits = ref.logits(new int[][] {input}, null, Set.of(), Set.of())[0];
        double sum = 0;
        int cont = p.continuation().length;
        for (int k = 0; k < cont; k++) {
            int pos = input.length - cont + k; // predicts window[pos + 1]
            sum += logSoftmax(logits[pos], window[pos + 1]);
        }
        return sum;
    }

    private static double logSoftmax(double[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) {
            max = Math.max(max, l);
        }
        double z = 0;
        for (double l : logits) {
            z += Math.exp(l - max);
        }
        return logits[target] - max - Math.log(z);
    }

    private static List<TokenPair> randomPairs(int vocab, int n, long seed) {
        Random r = new Random(seed);
        List<TokenPair> pairs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] ctx = new int[1 + r.nextInt(9)];
            int[] cont = new int[1 + r.nextInt(4)];
            for (int t = 0; t < ctx.length; t++) {
                ctx[t] = r.nextInt(vocab);
            }
            for (int t = 0; t < cont.length; t++) {
                cont[t] = r.nextInt(vocab);
            }
            pairs.add(new TokenPair(ctx, cont));
        }
        return pairs;
    }

    @Test
    void batchedLogLikelihoodsEqualANaiveForwardPerChoice() {
        TinyFixture f = TinyFixture.llama();
        List<TokenPair> pairs = randomPairs(f.config.vocabSize(), 11, 5);
        NaiveLlama ref = f.reference();
        try (LlamaModel model = f.engine()) {
            for (int batch : new int[] {1, 4, 16}) {
                List<Integer> progress = new ArrayList<>();
                double[] got = MultipleChoice.logLikelihoods(model, pairs, BlockMask.none(), batch, 128,
                        (done, total) -> progress.add(done));
                for (int i = 0; i < pairs.size(); i++) {
                    assertThat(got[i]).as("request %d, batch %d", i, batch)
                            .isCloseTo(naiveLogLikelihood(ref, pairs.get(i), 128), within(1e-3));
                    assertThat(got[i]).isNegative();
                }
                assertThat(progress).as("progress after every forward").hasSize((pairs.size() + batch - 1) / batch)
                        .last().isEqualTo(pairs.size());
            }
        }
    }

    @Test
    void tooLongSequencesAreTruncatedFromTheLeftAtMaxLength() {
        TinyFixture f = TinyFixture.mistral();
        List<TokenPair> pairs = randomPairs(f.config.vocabSize(), 6, 9);
        pairs.add(new TokenPair(new int[] {3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, new int[] {13, 14, 15}));
        NaiveLlama ref = f.reference();
        try (LlamaModel model = f.engine()) {
            double[] full = MultipleChoice.logLikelihoods(model, pairs, BlockMask.none(), 3, 128, (d, t) -> { });
            double[] cut = MultipleChoice.logLikelihoods(model, pairs, BlockMask.none(), 3, 6, (d, t) -> { });
            int last = pairs.size() - 1;
            // 13 tokens, max length 6: the forward sees tokens 6..11 of the sequence and scores the last three
            assertThat(cut[last]).isCloseTo(naiveLogLikelihood(ref, pairs.get(last), 6), within(1e-3))
                    .isNotCloseTo(full[last], within(1e-3));
            for (int i = 0; i < pairs.size(); i++) {
                assertThat(cut[i]).isCloseTo(naiveLogLikelihood(ref, pairs.get(i), 6), within(1e-3));
            }
            assertThatThrownBy(() -> MultipleChoice.logLikelihoods(model,
                    List.of(new TokenPair(new int[] {1}, new int[] {1, 2, 3})), BlockMask.none(), 1, 2, (d, t) -> { }))
                    .hasMessageContaining("continuation has 3 tokens; it needs 1 to 2");
        }
    }

    /** A tokenizer whose tokens do not split at the context boundary: runs of up to 3 non-spaces with leading spaces. */
    private static final class ChunkTokenizer implements MultipleChoice.Encoder {
        static final int BOS = 1;
        final Map<String, Integer> vocab = new LinkedHashMap<>();

        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            List<Integer> ids = new ArrayList<>();
            if (addSpecialTokens) {
                ids.add(BOS);
            }
            Matcher m = Pattern.compile("<s>|\\s*[^\\s<]{1,3}|\\s+").matcher(text);
            while (m.find()) {
                ids.add(id(m.group()));
            }
            return ids.stream().mapToInt(Integer::intValue).toArray();
        }

        int id(String token) {
            return token.equals("<s>") ? BOS : vocab.computeIfAbsent(token, t -> 10 + vocab.size());
        }
    }

    @Test
    void theContinuationIsTheJointEncodingLessTheContextsTokensWithTrailingSpaceMoved() {
        ChunkTokenizer tok = new ChunkTokenizer();
        MultipleChoice.Encoding enc = new MultipleChoice.Encoding(tok, true, ChunkTokenizer.BOS, "<s>");
        // "ab" + "cdef" encodes as [abc, def]: the context's two tokens [BOS, ab] are dropped, only "def" is scored
        TokenPair p = enc.pair("ab", "cdef");
        assertThat(p.context()).containsExactly(ChunkTokenizer.BOS, tok.id("ab"));
        assertThat(p.continuation()).containsExactly(tok.id("def"));
        // the trailing space of "Answer: " moves: context "Answer:", continuation " yes" (one token with its space)
        p = enc.pair("Answer: ", "yes");
        assertThat(p.context()).containsExactly(ChunkTokenizer.BOS, tok.id("Ans"), tok.id("wer"), tok.id(":"));
        assertThat(p.continuation()).containsExactly(tok.id(" yes"));
        // an empty context is the prefix token; the continuation is encoded without special tokens
        p = enc.pair("", " no");
        assertThat(p.context()).containsExactly(ChunkTokenizer.BOS);
        assertThat(p.continuation()).containsExactly(tok.id(" no"));
        // a context that starts with the prefix token's text gets no second one
        p = enc.pair("<s>Q", " A");
        assertThat(p.context()).containsExactly(ChunkTokenizer.BOS, tok.id("Q"));
        // without special tokens (lm-eval 0.4.0 to 0.4.8)
        p = new MultipleChoice.Encoding(tok, false, ChunkTokenizer.BOS, "<s>").pair("ab", "cdef");
        assertThat(p.context()).containsExactly(tok.id("ab"));
        assertThat(p.continuation()).containsExactly(tok.id("def"));
    }

    private static MultipleChoiceDoc doc(int gold, String... choices) {
        return MultipleChoiceDoc.sharedContext("Q:", List.of(choices), gold, " ");
    }

    @Test
    void accAccNormAndStandardErrorsByHand() {
        // doc 1: lls -2, -3 -> acc picks 0; per char -2/1 = -2, -3/6 = -0.5 -> acc_norm picks 1 (gold 1): acc 0, norm 1
        // doc 2: lls -4, -4 tie -> first; per char -4/2, -4/4 -> 1 (gold 0): acc 1, norm 0
        // doc 3: lls -1, -5, -9 -> 0; per char -1/1, -5/10, -9/3 -> 1 (gold 0): acc 1, norm 0
        // doc 4: "é" is 1 character (2 UTF-8 bytes): -3/1, -5/2 -> 1 (gold 1); acc picks 0: acc 0, norm 1
        List<MultipleChoiceDoc> docs = List.of(doc(1, "a", "bbbbbb"), doc(0, "aa", "bbbb"), doc(0, "a", "bbbbbbbbbb", "ccc"),
                doc(1, "x", "éé"));
        double[][] lls = {{-2, -3}, {-4, -4}, {-1, -5, -9}, {-3, -5}};
        List<MultipleChoice.DocScore> scores = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            scores.add(MultipleChoice.score(docs.get(i), lls[i]));
        }
        assertThat(scores).extracting(MultipleChoice.DocScore::pred).containsExactly(0, 0, 0, 0);
        assertThat(scores).extracting(MultipleChoice.DocScore::predNorm).containsExactly(1, 1, 1, 1);
        TaskResult r = TaskResult.of("t", "generic", true, scores);
        // acc = [0, 1, 1, 0]: mean 0.5, sample sd sqrt(4 * 0.25 / 3) = 0.57735, stderr 0.57735 / 2 = 0.288675
        assertThat(r.docs()).isEqualTo(4);
        assertThat(r.acc()).isEqualTo(0.5);
        assertThat(r.accStderr()).isCloseTo(0.2886751346, within(1e-9));
        assertThat(r.accNorm()).isEqualTo(0.5);
        assertThat(r.accNormStderr()).isCloseTo(0.2886751346, within(1e-9));
        // three of [1, 1, 1, 0] -> 0.75, sd sqrt((3 * 0.0625 + 0.5625) / 3) = 0.5, stderr 0.25
        assertThat(TaskResult.meanStderr(new double[] {1, 1, 1, 0})).isCloseTo(0.25, within(1e-12));
        assertThat(TaskResult.meanStderr(new double[] {1})).as("lm-eval: N/A for one document").isNull();
        TaskResult wino = TaskResult.of("w", "winogrande", false, scores);
        assertThat(wino.accNorm()).isNull();
        assertThat(wino.accNormStderr()).isNull();
        // the average takes acc_norm where defined, else acc: (0.5 + 0.5) / 2 with r's acc_norm 0.5, wino's acc 0.5
        TaskResult other = new TaskResult("o", "piqa", 2, 0.0, 0.0, 1.0, 0.0);
        assertThat(TaskResult.average(List.of(other, wino))).isEqualTo(0.75);
    }

    @Test
    void eachAdapterBuildsTheStringsLmEvalBuilds() {
        var json = tools.jackson.databind.json.JsonMapper.builder().build();
        MultipleChoiceDoc piqa = TaskFormat.PIQA.doc(json.readTree("""
                {"goal": "How do I ready a guinea pig cage for it's new occupants?", "sol1": "Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips.", "sol2": "Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material.", "label": 0}"""));
        assertThat(piqa.requests()).containsExactly(
                new MultipleChoiceDoc.Request("Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:",
                        " Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips."),
                new MultipleChoiceDoc.Request("Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:",
                        " Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material."));
        assertThat(piqa.choices().get(0)).doesNotStartWith(" ");
        assertThat(piqa.gold()).isZero();

        MultipleChoiceDoc wino = TaskFormat.WINOGRANDE.doc(json.readTree("""
                {"sentence": "Sarah was a much better surgeon than Maria so _ always got the harder cases.", "option1": "Sarah", "option2": "Maria", "answer": "2"}"""));
        assertThat(wino.requests()).containsExactly(
                new MultipleChoiceDoc.Request("Sarah was a much better surgeon than Maria so Sarah", " always got the harder cases."),
                new MultipleChoiceDoc.Request("Sarah was a much better surgeon than Maria so Maria", " always got the harder cases."));
        assertThat(wino.choices()).as("doc_to_choice: the filled contexts")
                .containsExactly("Sarah was a much better surgeon than Maria so Sarah", "Sarah was a much better surgeon than Maria so Maria");
        assertThat(wino.gold()).isEqualTo(1);
        assertThat(TaskFormat.WINOGRANDE.hasAccNorm()).isFalse();

        MultipleChoiceDoc hella = TaskFormat.HELLASWAG.doc(json.readTree("""
                {"ind": 24, "activity_label": "Roof shingle removal", "ctx_a": "A man is sitting on a roof.", "ctx_b": "he", "endings": ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.", "is holding a rubik's cube.", "starts pulling up roofing on a roof."], "label": "3"}"""));
        assertThat(hella.requests().get(3)).isEqualTo(new MultipleChoiceDoc.Request(
                "Roof shingle removal: A man is sitting on a roof. He", " starts pulling up roofing on a roof."));
        assertThat(hella.gold()).isEqualTo(3);
        // the WikiHow artifacts: " [title]" becomes ". ", other [tags] go, double spaces close; capitalize lowers the rest
        MultipleChoiceDoc wiki = TaskFormat.HELLASWAG.doc(json.readTree("""
                {"activity_label": "Home and Garden", "ctx_a": "[header] How to clean a grill [title] Heat the grill. [step] Turn it on", "ctx_b": "then WAIT ten minutes.", "endings": [" [substeps] Scrub the grates. ", "Leave it."], "label": 0}"""));
        assertThat(wiki.requests().get(0)).isEqualTo(new MultipleChoiceDoc.Request(
                "Home and Garden: How to clean a grill. Heat the grill. Turn it on Then wait ten minutes.",
                "  Scrub the grates."));
        // preprocess strips before it drops "[substeps]", so the choice keeps the space after the tag, as in lm-eval
        assertThat(wiki.choices()).containsExactly(" Scrub the grates.", "Leave it.");

        MultipleChoiceDoc arc = TaskFormat.ARC_CHALLENGE.doc(json.readTree("""
                {"id": "Mercury_7175875", "question": "An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?", "choices": {"text": ["Planetary density will decrease.", "Planetary years will become longer.", "Planetary days will become shorter.", "Planetary gravity will become stronger."], "label": ["A", "B", "C", "D"]}, "answerKey": "C"}"""));
        assertThat(arc.requests().get(2)).isEqualTo(new MultipleChoiceDoc.Request(
                "Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?\nAnswer:",
                " Planetary days will become shorter."));
        assertThat(arc.gold()).isEqualTo(2);
        MultipleChoiceDoc numbered = TaskFormat.ARC_EASY.doc(json.readTree("""
                {"question": "Q?", "choices": {"text": ["x", "y"], "label": ["1", "2"]}, "answerKey": "2"}"""));
        assertThat(numbered.gold()).isEqualTo(1);

        MultipleChoiceDoc generic = TaskFormat.GENERIC.doc(json.readTree("""
                {"context": "2 + 2 =", "choices": ["4", "5"], "gold": 0}"""));
        assertThat(generic.requests()).containsExactly(new MultipleChoiceDoc.Request("2 + 2 =", " 4"),
                new MultipleChoiceDoc.Request("2 + 2 =", " 5"));
    }

    @Test
    void badRecordsNameTheFileLineAndField() throws Exception {
        Path f = dir.resolve("arc.jsonl");
        Files.writeString(f, """
                {"question": "Q?", "choices": {"text": ["x", "y"], "label": ["A", "B"]}, "answerKey": "A"}

                {"question": "Q?", "choices": {"text": ["x", "y"], "label": ["A", "B"]}, "answerKey": "E"}
                """);
        assertThat(TaskFormat.ARC_EASY.load(f, 1)).hasSize(1);
        assertThatThrownBy(() -> TaskFormat.ARC_EASY.load(f, null))
                .hasMessageContaining("arc.jsonl line 3 (arc_easy): answerKey: 'E' is not one of the labels [A, B]");
        Files.writeString(f, "{\"sentence\": \"no blank\", \"option1\": \"a\", \"option2\": \"b\", \"answer\": \"1\"}\n");
        assertThatThrownBy(() -> TaskFormat.WINOGRANDE.load(f, null)).hasMessageContaining("line 1 (winogrande): sentence: has no '_' blank");
        Files.writeString(f, "{\"context\": \"c\", \"choices\": [\"a\"], \"gold\": 1}\n");
        assertThatThrownBy(() -> TaskFormat.GENERIC.load(f, null)).hasMessageContaining("gold: 1 is not a choice index in [0, 1)");
        Files.writeString(f, "{\"goal\": \"g\", \"sol1\": \"a\", \"label\": 0}\n");
        assertThatThrownBy(() -> TaskFormat.PIQA.load(f, null)).hasMessageContaining("sol2: must be a string (missing)");
        assertThatThrownBy(() -> TaskFormat.of("mmlu")).hasMessageContaining("known: generic, piqa, winogrande");
    }

    @Test
    void aTaskOnATinyCheckpointScoresEveryChoiceAsTheUnbatchedEngineDoes() throws Exception {
        Path model = TinyModels.write(Architecture.LLAMA, dir.resolve("m"), TinySizes.defaults(), 7);
        Path data = dir.resolve("t.jsonl");
        Files.writeString(data, """
                {"context": "The sky is", "choices": ["blue", "green", "a very long answer indeed"], "gold": 0}
                {"context": "Water is ", "choices": ["wet", "dry"], "gold": 1}
                {"context": "1 2 3", "choices": ["4", "5 6 7 8 9"], "gold": 0}
                """);
        List<MultipleChoiceDoc> docs = TaskFormat.GENERIC.load(data, null);
        try (TextTokenizer tok = TextTokenizer.load(model); LlamaModel m = CheckpointLoader.load(model, EngineOptions.cpu())) {
            MultipleChoice.Encoding enc = MultipleChoice.Encoding.of(tok);
            TaskResult r = MultipleChoice.evaluate(m, enc, "t", TaskFormat.GENERIC, docs, BlockMask.none(), 4, (d, t) -> { });
            // the reference: per choice, the engine unbatched over BOS + context + continuation, log-softmax in Java
            List<MultipleChoice.DocScore> expected = new ArrayList<>();
            List<TokenPair> pairs = new ArrayList<>();
            List<Double> reference = new ArrayList<>();
            for (MultipleChoiceDoc doc : docs) {
                double[] lls = new double[doc.choices().size()];
                for (int c = 0; c < lls.length; c++) {
                    MultipleChoiceDoc.Request q = doc.requests().get(c);
                    String ctx = q.context().stripTrailing();
                    int[] ctxIds = tok.encode(ctx, true);
                    int[] whole = tok.encode(ctx + q.context().substring(ctx.length()) + q.continuation(), true);
                    assertThat(ctxIds[0]).as("the tokenizer's BOS").isEqualTo(tok.bosTokenId().orElseThrow());
                    try (NDManager s = m.manager().newSubManager()) {
                        long[] in = java.util.Arrays.stream(whole, 0, whole.length - 1).asLongStream().toArray();
                        float[] logits = m.logits(s.create(new long[][] {in}), null, BlockMask.none()).toFloatArray();
                        int vocab = logits.length / in.length;
                        for (int t = ctxIds.length; t < whole.length; t++) {
                            double[] row = new double[vocab];
                            for (int v = 0; v < vocab; v++) {
                                row[v] = logits[(t - 1) * vocab + v];
                            }
                            lls[c] += logSoftmax(row, whole[t]);
                        }
                    }
                    pairs.add(enc.pair(q.context(), q.continuation()));
                    reference.add(lls[c]);
                }
                expected.add(MultipleChoice.score(doc, lls));
            }
            double[] got = MultipleChoice.logLikelihoods(m, pairs, BlockMask.none(), 4, 256, (d, t) -> { });
            for (int i = 0; i < got.length; i++) {
                assertThat(got[i]).as("choice %d", i).isCloseTo(reference.get(i), within(1e-3));
            }
            TaskResult want = TaskResult.of("t", "generic", true, expected);
            assertThat(r.acc()).isEqualTo(want.acc());
            assertThat(r.accNorm()).isEqualTo(want.accNorm());
            assertThat(r.docs()).isEqualTo(3);
            // "Water is " -> context "Water is", continuation " wet": one space, not two
            MultipleChoice.TokenPair p = enc.pair("Water is ", " wet");
            assertThat(tok.decode(p.continuation(), false)).isEqualTo("  wet");
            assertThat(tok.decode(enc.pair("Water is", " wet").continuation(), false)).isEqualTo(" wet");
        }
    }
}
