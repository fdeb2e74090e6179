package dev.amalgam.modelengine.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class OpenAiCompletionsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private LlamaModel model;
    private TextTokenizer tokenizer;
    private OpenAiCompletions api;

    @BeforeEach
    void tiny() {
        TinyModels.write(Architecture.LLAMA, dir, new TinySizes(32, 64, 2, 4, 2, 128, DType.F32), 21);
        model = CheckpointLoader.load(dir, EngineOptions.cpu());
        tokenizer = TextTokenizer.load(dir);
        api = new OpenAiCompletions(model, tokenizer, "tiny", 64, Clock.systemUTC());
    }

    @AfterEach
    void close() {
        tokenizer.close();
        model.close();
    }

    /** The test's own greedy decoding: full forward per token, argmax, and log-softmax in double. */
    private record Step(int token, double logprob, int second, double secondLogprob) {
    }

    private List<Step> naiveGreedy(int[] prompt, int n) {
        List<Integer> seq = new ArrayList<>();
        for (int t : prompt) {
            seq.add(t);
        }
        Set<Integer> eos = tokenizer.eosTokenIds(model.config().eosTokenIds());
        List<Step> out = new ArrayList<>();
        int vocab = model.config().vocabSize();
        for (int i = 0; i < n; i++) {
            try (NDManager m = model.manager().newSubManager()) {
                long[][] ids = {seq.stream().mapToLong(Integer::longValue).toArray()};
                float[] logits = model.logits(m.create(ids), null, BlockMask.none()).toFloatArray();
                int off = (seq.size() - 1) * vocab;
                int best = 0;
                for (int v = 1; v < vocab; v++) {
                    best = logits[off + v] > logits[off + best] ? v : best;
                }
                int second = best == 0 ? 1 : 0;
                for (int v = 0; v < vocab; v++) {
                    if (v != best && logits[off + v] > logits[off + second]) {
                        second = v;
                    }
                }
                double z = 0;
                for (int v = 0; v < vocab; v++) {
                    z += Math.exp(logits[off + v]);
                }
                out.add(new Step(best, logits[off + best] - Math.log(z), second, logits[off + second] - Math.log(z)));
                seq.add(best);
                if (eos.contains(best)) {
                    break;
                }
            }
        }
        return out;
    }

    private String text(List<Step> steps) {
        Set<Integer> eos = tokenizer.eosTokenIds(model.config().eosTokenIds());
        return tokenizer.decode(steps.stream().mapToInt(Step::token).filter(t -> !eos.contains(t)).toArray(), true);
    }

    private ObjectNode body(String json) {
        return (ObjectNode) JSON.readTree(json);
    }

    @Test
    void aDrawnEndOfSequenceTokenIsReportedWithItsAlternativesThoughNotInTheText() throws Exception {
        // a final norm of zeros makes every logit 0: each token, the EOS too, is drawn with probability 1/vocab
        Path flat = dir.resolve("flat");
        TinyModels.write(Architecture.LLAMA, flat, new TinySizes(32, 64, 2, 4, 2, 128, DType.F32), 21);
        try (var f = java.nio.channels.FileChannel.open(flat.resolve("model.safetensors"),
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            f.read(len, 0);
            long data = 8 + len.getLong(0);
            dev.amalgam.modelio.TensorInfo norm;
            try (var st = dev.amalgam.modelio.SafetensorsFile.open(flat.resolve("model.safetensors"))) {
                norm = st.info("model.norm.weight");
            }
            f.write(java.nio.ByteBuffer.allocate((int) (norm.end() - norm.begin())), data + norm.begin());
        }
        try (LlamaModel m = CheckpointLoader.load(flat, EngineOptions.cpu()); TextTokenizer tok = TextTokenizer.load(flat)) {
            OpenAiCompletions flatApi = new OpenAiCompletions(m, tok, "flat", 64, Clock.systemUTC());
            Set<Integer> eos = tok.eosTokenIds(m.config().eosTokenIds());
            String eosText = tok.decode(new int[] {eos.iterator().next()}, false);
            for (int seed = 0; seed < 200; seed++) { // choice i draws with seed + i; fixed: the same draws every run
                ObjectNode r = flatApi.run(flatApi.parse(true, body("""
                        {"model": "flat", "messages": [{"role": "user", "content": "Hello there"}], "max_tokens": 1,
                         "n": 8, "seed": %d, "logprobs": true, "top_logprobs": 5}""".formatted(seed * 8))), c -> { });
                for (JsonNode choice : r.get("choices")) {
                    if (choice.get("finish_reason").asString().equals("stop")) {
                        assertThat(choice.get("message").get("content").asString()).isEmpty();
                        JsonNode content = choice.get("logprobs").get("content");
                        assertThat(content).hasSize(1);
                        assertThat(content.get(0).get("token").asString()).isEqualTo(eosText);
                        assertThat(content.get(0).get("logprob").asDouble())
                                .isCloseTo(-Math.log(m.config().vocabSize()), org.assertj.core.data.Offset.offset(1e-4));
                        assertThat(content.get(0).get("top_logprobs")).hasSize(5);
                        assertThat(r.get("usage").get("completion_tokens").asInt()).isEqualTo(8);
                        return;
                    }
                }
            }
        }
        throw new AssertionError("no choice drew the end-of-sequence token in 1600 draws");
    }

    @Test
    void greedyChatCompletionEqualsANaiveArgmaxLoopWithItsLogprobs() {
        ObjectNode r = api.run(api.parse(true, body("""
                {"model": "tiny", "messages": [{"role": "user", "content": "Hello there"}], "max_tokens": 8,
                 "temperature": 0, "logprobs": true, "top_logprobs": 2}""")), c -> { });
        List<Step> want = naiveGreedy(tokenizer.encodeChat(List.of(ChatMessage.user("Hello there")), true), 8);
        assertThat(r.get("object").asString()).isEqualTo("chat.completion");
        assertThat(r.get("id").asString()).startsWith("chatcmpl-");
        assertThat(r.get("model").asString()).isEqualTo("tiny");
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("message").get("role").asString()).isEqualTo("assistant");
        assertThat(choice.get("message").get("content").asString()).isEqualTo(text(want));
        JsonNode content = choice.get("logprobs").get("content");
        Set<Integer> eos = tokenizer.eosTokenIds(model.config().eosTokenIds());
        List<Step> reported = want; // every generated token, an EOS too (not in the text)
        assertThat(content).hasSize(reported.size());
        for (int i = 0; i < reported.size(); i++) {
            JsonNode e = content.get(i);
            assertThat(e.get("token").asString()).isEqualTo(tokenizer.decode(new int[] {reported.get(i).token()}, false));
            assertThat(e.get("logprob").asDouble()).isCloseTo(reported.get(i).logprob(), org.assertj.core.data.Offset.offset(1e-4));
            assertThat(e.get("top_logprobs")).hasSize(2);
            assertThat(e.get("top_logprobs").get(0).get("logprob").asDouble()).isEqualTo(e.get("logprob").asDouble());
            assertThat(e.get("top_logprobs").get(1).get("logprob").asDouble())
                    .isCloseTo(reported.get(i).secondLogprob(), org.assertj.core.data.Offset.offset(1e-4));
        }
        boolean ended = eos.contains(want.get(want.size() - 1).token());
        assertThat(choice.get("finish_reason").asString()).isEqualTo(ended ? "stop" : "length");
        JsonNode usage = r.get("usage");
        int promptTokens = tokenizer.encodeChat(List.of(ChatMessage.user("Hello there")), true).length;
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(promptTokens);
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(want.size());
        assertThat(usage.get("total_tokens").asInt()).isEqualTo(promptTokens + want.size());
    }

    @Test
    void streamedDeltasJoinToTheUnstreamedTextAndEndWithAFinishReason() {
        String req = """
                {"messages": [{"role": "system", "content": "Be short."}, {"role": "user", "content": "Count"}],
                 "max_tokens": 12, "temperature": 0.9, "top_p": 0.95, "seed": 123, "n": 2%s}""";
        ObjectNode whole = api.run(api.parse(true, body(req.formatted(""))), c -> { });
        List<ObjectNode> chunks = new ArrayList<>();
        assertThat(api.run(api.parse(true, body(req.formatted(", \"stream\": true, \"stream_options\": {\"include_usage\": true}"))),
                chunks::add)).isNull();
        for (int index = 0; index < 2; index++) {
            StringBuilder joined = new StringBuilder();
            String finish = null;
            boolean sawRole = false;
            for (ObjectNode c : chunks) {
                assertThat(c.get("object").asString()).isEqualTo("chat.completion.chunk");
                for (JsonNode ch : c.get("choices")) {
                    if (ch.get("index").asInt() != index) {
                        continue;
                    }
                    assertThat(finish).as("nothing after the finish reason").isNull();
                    sawRole |= ch.get("delta").has("role");
                    if (ch.get("delta").has("content")) {
                        joined.append(ch.get("delta").get("content").asString());
                    }
                    if (!ch.get("finish_reason").isNull()) {
                        finish = ch.get("finish_reason").asString();
                    }
                }
            }
            assertThat(sawRole).isTrue();
            JsonNode choice = whole.get("choices").get(index);
            assertThat(joined.toString()).as("the same seed, the same text").isEqualTo(choice.get("message").get("content").asString());
            assertThat(finish).isEqualTo(choice.get("finish_reason").asString());
        }
        ObjectNode last = chunks.get(chunks.size() - 1);
        assertThat(last.get("choices")).isEmpty();
        assertThat(last.get("usage").get("completion_tokens").asInt()).isEqualTo(whole.get("usage").get("completion_tokens").asInt());
        // the two choices sample different streams
        assertThat(whole.get("choices").get(0).get("message").get("content").asString())
                .isNotEqualTo(whole.get("choices").get(1).get("message").get("content").asString());
    }

    @Test
    void aStopSequenceEndsTheChoiceAndIsNotPartOfItsTextNorStreamed() {
        String prompt = "Once upon a time";
        List<Step> want = naiveGreedy(tokenizer.encode(prompt, true), 24);
        String full = text(want);
        assertThat(full.replace("\uFFFD", "").length()).as("the tiny model writes something").isGreaterThan(3);
        int from = 1;
        while (full.substring(from, from + 2).contains("\uFFFD")) {
            from++; // a stop sequence of complete characters
        }
        String stop = full.substring(from, from + 2);
        String expected = full.substring(0, full.indexOf(stop));
        ObjectNode r = api.run(api.parse(false, body("""
                {"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0, "stop": [%s, "never-seen-xyz"], "logprobs": 1}"""
                .formatted(JSON.writeValueAsString(stop)))), c -> { });
        assertThat(r.get("object").asString()).isEqualTo("text_completion");
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("text").asString()).isEqualTo(expected);
        assertThat(choice.get("finish_reason").asString()).isEqualTo("stop");
        JsonNode lp = choice.get("logprobs");
        assertThat(lp.get("tokens").size()).isEqualTo(lp.get("token_logprobs").size()).isEqualTo(lp.get("text_offset").size());
        assertThat(lp.get("token_logprobs").get(0).asDouble()).isCloseTo(want.get(0).logprob(), org.assertj.core.data.Offset.offset(1e-4));
        assertThat(lp.get("top_logprobs").get(0).size()).isEqualTo(1);
        List<ObjectNode> chunks = new ArrayList<>();
        api.run(api.parse(false, body("""
                {"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0, "stop": %s, "stream": true}"""
                .formatted(JSON.writeValueAsString(stop)))), chunks::add);
        StringBuilder joined = new StringBuilder();
        chunks.forEach(c -> c.get("choices").forEach(ch -> joined.append(ch.get("text").asString())));
        assertThat(joined.toString()).isEqualTo(expected);
        assertThat(chunks.get(chunks.size() - 1).get("choices").get(0).get("finish_reason").asString()).isEqualTo("stop");
    }

    @Test
    void maxTokensEndsWithLengthAndCompletionsDefaultToSixteen() {
        ObjectNode r = api.run(api.parse(false, body("{\"prompt\": \"abc\", \"temperature\": 0, \"max_tokens\": 3}")), c -> { });
        List<Step> want = naiveGreedy(tokenizer.encode("abc", true), 3);
        assertThat(r.get("choices").get(0).get("text").asString()).isEqualTo(text(want));
        assertThat(r.get("choices").get(0).get("finish_reason").asString()).isEqualTo(want.size() == 3
                && !tokenizer.eosTokenIds(model.config().eosTokenIds()).contains(want.get(2).token()) ? "length" : "stop");
        assertThat(api.parse(false, body("{\"prompt\": \"abc\"}")).maxTokens()).isEqualTo(16);
        assertThat(api.parse(true, body("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}")).temperature()).isEqualTo(1.0);
    }

    @Test
    void holdsBackWhatCouldStartAStopSequenceAndPartialCharacters() {
        assertThat(OpenAiCompletions.safeLength("hello wor", List.of("world"))).isEqualTo(6);
        assertThat(OpenAiCompletions.safeLength("hello w", List.of("xyz"))).isEqualTo(7);
        assertThat(OpenAiCompletions.safeLength("abc\uFFFD", List.of())).isEqualTo(3);
        assertThat(OpenAiCompletions.safeLength("ab", List.of("b", "abc"))).isEqualTo(0);
        assertThat(OpenAiCompletions.firstStop("one two three", List.of("three", "two"))).isEqualTo(4);
    }

    @Test
    void badRequestsNameTheField() {
        assertThatThrownBy(() -> api.parse(true, body("{\"messages\": []}"))).hasMessageContaining("messages");
        assertThatThrownBy(() -> api.parse(true, body("{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}")))
                .hasMessageContaining("messages[0].role");
        assertThatThrownBy(() -> api.parse(false, body("{\"prompt\": \"x\", \"temperature\": 3}")))
                .isInstanceOf(OpenAiCompletions.BadRequest.class).hasMessageContaining("temperature");
        assertThatThrownBy(() -> api.parse(false, body("{\"prompt\": \"x\", \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}")))
                .hasMessageContaining("stop");
        assertThatThrownBy(() -> api.parse(false, body("{\"prompt\": \"x\", \"max_tokens\": 100}")))
                .hasMessageContaining("at most 64");
        assertThatThrownBy(() -> api.parse(false, body("{\"prompt\": \"x\", \"logprobs\": 9}"))).hasMessageContaining("logprobs");
        assertThatThrownBy(() -> api.parse(true, body("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_logprobs\": 2}")))
                .hasMessageContaining("top_logprobs needs logprobs");
        assertThatThrownBy(() -> api.parse(true, body("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"frequency_penalty\": 0.5}")))
                .hasMessageContaining("frequency_penalty is not supported");
        assertThatThrownBy(() -> api.parse(true, body("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": [{\"type\": \"function\"}]}")))
                .hasMessageContaining("tools is not supported");
        // neutral values are accepted: what clients send by default
        assertThat(api.parse(true, body("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"presence_penalty\": 0, \"logit_bias\": {}, \"response_format\": {\"type\": \"text\"}}")).n())
                .isEqualTo(1);
    }
}
