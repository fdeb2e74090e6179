package dev.amalgam.modelengine.serve;

import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.generate.FinishReason;
import dev.amalgam.modelengine.generate.GeneratedSequence;
import dev.amalgam.modelengine.generate.GenerationConfig;
import dev.amalgam.modelengine.generate.Generator;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * OpenAI's {@code /v1/chat/completions} and {@code /v1/completions} over one loaded model: the request fields
 * {@code messages}/{@code prompt}, {@code max_tokens} (chat also {@code max_completion_tokens}), {@code temperature}
 * (default 1), {@code top_p} (default 1), {@code n}, {@code seed}, {@code stop} (a string or up to 4), {@code stream}
 * (with {@code stream_options.include_usage}), and {@code logprobs}/{@code top_logprobs} (chat) or
 * {@code logprobs: k} (completions); answers in OpenAI's response and chunk layouts. Chat prompts are rendered with
 * the model's chat template.
 *
 * <p>Log-probabilities are those of the model's own distribution (log-softmax of the raw logits, before temperature
 * and top-p). A stop sequence ends the choice and is not part of its text; while streaming, text that could be the
 * start of a stop sequence is held back until it is known not to be one. One request runs at a time.
 */
public final class OpenAiCompletions {

    /** At most this many stop sequences, as OpenAI allows. */
    public static final int MAX_STOP = 4;
    /** At most this many choices per request. */
    public static final int MAX_N = 8;

    /** A request the API refuses (400), naming the field. */
    public static final class BadRequest extends RuntimeException {
        private final String param;

        public BadRequest(String param, String message) {
            super(message);
            this.param = param;
        }

        public String param() {
            return param;
        }
    }

    /** A checked request. */
    public record Request(boolean chat, int[] prompt, int maxTokens, double temperature, double topP, int n, long seed,
            List<String> stop, boolean stream, boolean includeUsage, int logprobs) {
        /** Whether log-probabilities were asked for ({@code logprobs} is then the number of alternatives, 0..20). */
        public boolean wantsLogprobs() {
            return logprobs >= 0;
        }
    }

    private final LlamaModel model;
    private final TextTokenizer tokenizer;
    private final String modelName;
    private final int maxNewTokens;
    private final Clock clock;
    private final JsonMapper mapper = JsonMapper.builder().build();
    private final SecureRandom random = new SecureRandom();
    private final Set<Integer> eos;

    /**
     * @param modelName the name answers carry in {@code model}
     * @param maxNewTokens the most tokens one choice may generate, whatever {@code max_tokens} asks
     */
    public OpenAiCompletions(LlamaModel model, TextTokenizer tokenizer, String modelName, int maxNewTokens, Clock clock) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.modelName = modelName;
        this.maxNewTokens = maxNewTokens;
        this.clock = clock;
        this.eos = tokenizer.eosTokenIds(model.config().eosTokenIds());
    }

    public String modelName() {
        return modelName;
    }

    /** The {@code /v1/models} answer: this one model. */
    public ObjectNode models() {
        ObjectNode o = mapper.createObjectNode().put("object", "list");
        o.putArray("data").addObject().put("id", modelName).put("object", "model").put("created", now())
                .put("owned_by", "amalgam");
        return o;
    }

    /** Reads and checks a request body; {@code chat} for {@code /v1/chat/completions}. */
    public Request parse(boolean chat, JsonNode body) {
        if (body == null || !body.isObject()) {
            throw new BadRequest(null, "the body must be a JSON object");
        }
        refuseUnsupported(body);
        int[] prompt;
        if (chat) {
            JsonNode messages = body.get("messages");
            if (messages == null || !messages.isArray() || messages.isEmpty()) {
                throw new BadRequest("messages", "messages: a non-empty list of {role, content} is required");
            }
            List<ChatMessage> list = new ArrayList<>();
            for (int i = 0; i < messages.size(); i++) {
                JsonNode m = messages.get(i);
                String role = m.path("role").isString() ? m.path("role").asString() : null;
                if (role == null || !List.of("system", "developer", "user", "assistant").contains(role)) {
                    throw new BadRequest("messages", "messages[" + i + "].role: must be system, developer, user or assistant");
                }
                list.add(new ChatMessage(role.equals("developer") ? "system" : role, content(m.get("content"), i)));
            }
            if (tokenizer.chatTemplate().isEmpty()) {
                throw new BadRequest("messages", "this model has no chat template; use /v1/completions");
            }
            try {
                prompt = tokenizer.encodeChat(list, true);
            } catch (RuntimeException e) {
                throw new BadRequest("messages", "the chat template refused the messages: " + e.getMessage());
            }
        } else {
            JsonNode p = body.get("prompt");
            if (p == null || !p.isString()) {
                throw new BadRequest("prompt", "prompt: a string is required (lists of prompts or token ids are not supported)");
            }
            prompt = tokenizer.encode(p.asString(), true);
            if (body.path("echo").asBoolean(false)) {
                throw new BadRequest("echo", "echo is not supported");
            }
        }
        if (prompt.length == 0) {
            throw new BadRequest(chat ? "messages" : "prompt", "the prompt has no tokens");
        }
        int room = model.config().maxPositionEmbeddings() - prompt.length;
        if (room < 1) {
            throw new BadRequest(chat ? "messages" : "prompt", "the prompt has " + prompt.length
                    + " tokens; the model's context is " + model.config().maxPositionEmbeddings());
        }
        String maxField = chat && body.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        Integer max = integer(body, maxField, 1, Integer.MAX_VALUE);
        int maxTokens = max != null ? max : chat ? Math.min(room, maxNewTokens) : 16;
        if (maxTokens > room) {
            throw new BadRequest(maxField, maxField + ": " + maxTokens + " plus the prompt's " + prompt.length
                    + " tokens exceed the model's context of " + model.config().maxPositionEmbeddings());
        }
        if (maxTokens > maxNewTokens) {
            throw new BadRequest(maxField, maxField + ": at most " + maxNewTokens + " on this endpoint, got " + maxTokens);
        }
        double temperature = number(body, "temperature", 0, 2, 1.0);
        double topP = number(body, "top_p", 0, 1, 1.0);
        if (topP == 0) {
            throw new BadRequest("top_p", "top_p: must be greater than 0");
        }
        Integer nField = integer(body, "n", 1, MAX_N);
        int n = nField == null ? 1 : nField;
        JsonNode seedNode = body.get("seed");
        long seed;
        if (seedNode == null || seedNode.isNull()) {
            seed = random.nextLong();
        } else if (seedNode.isIntegralNumber() && seedNode.canConvertToLong()) {
            seed = seedNode.longValue();
        } else {
            throw new BadRequest("seed", "seed: must be an integer");
        }
        List<String> stop = new ArrayList<>();
        JsonNode s = body.get("stop");
        if (s != null && !s.isNull()) {
            if (s.isString()) {
                stop.add(s.asString());
            } else if (s.isArray() && s.size() <= MAX_STOP) {
                for (JsonNode x : s) {
                    if (!x.isString()) {
                        throw new BadRequest("stop", "stop: must be a string or a list of up to 4 strings");
                    }
                    stop.add(x.asString());
                }
            } else {
                throw new BadRequest("stop", "stop: must be a string or a list of up to 4 strings");
            }
            if (stop.stream().anyMatch(String::isEmpty)) {
                throw new BadRequest("stop", "stop: sequences must not be empty");
            }
        }
        boolean stream = body.path("stream").asBoolean(false);
        boolean includeUsage = stream && body.path("stream_options").path("include_usage").asBoolean(false);
        int logprobs = -1;
        if (chat) {
            if (body.path("logprobs").asBoolean(false)) {
                Integer top = integer(body, "top_logprobs", 0, 20);
                logprobs = top == null ? 0 : top;
            } else if (body.hasNonNull("top_logprobs")) {
                throw new BadRequest("top_logprobs", "top_logprobs needs logprobs: true");
            }
        } else {
            Integer lp = integer(body, "logprobs", 0, 5);
            logprobs = lp == null ? -1 : lp;
        }
        return new Request(chat, prompt, maxTokens, temperature, topP, n, seed, List.copyOf(stop), stream, includeUsage,
                logprobs);
    }

    /** Fields this server cannot honour are refused unless they hold their neutral value (never silently ignored). */
    private static void refuseUnsupported(JsonNode body) {
        for (String f : List.of("tools", "functions", "function_call", "logit_bias", "audio", "prediction", "suffix")) {
            JsonNode v = body.get(f);
            if (v != null && !v.isNull() && !(v.isContainer() && v.isEmpty()) && !(v.isString() && v.asString().isEmpty())) {
                throw new BadRequest(f, f + " is not supported");
            }
        }
        for (String f : List.of("presence_penalty", "frequency_penalty")) {
            JsonNode v = body.get(f);
            if (v != null && !v.isNull() && !(v.isNumber() && v.doubleValue() == 0)) {
                throw new BadRequest(f, f + " is not supported (only 0)");
            }
        }
        JsonNode toolChoice = body.get("tool_choice");
        if (toolChoice != null && !toolChoice.isNull() && !toolChoice.asString("").equals("none")) {
            throw new BadRequest("tool_choice", "tool_choice is not supported");
        }
        JsonNode format = body.get("response_format");
        if (format != null && !format.isNull() && !format.path("type").asString("").equals("text")) {
            throw new BadRequest("response_format", "response_format: only {\"type\": \"text\"} is supported");
        }
        JsonNode bestOf = body.get("best_of");
        if (bestOf != null && !bestOf.isNull() && !(bestOf.isIntegralNumber() && bestOf.intValue() == 1)) {
            throw new BadRequest("best_of", "best_of is not supported (only 1)");
        }
    }

    private static String content(JsonNode c, int i) {
        if (c != null && c.isString()) {
            return c.asString();
        }
        if (c != null && c.isArray()) { // [{"type": "text", "text": ...}, ...]
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.path("type").asString("").equals("text") || !part.path("text").isString()) {
                    throw new BadRequest("messages", "messages[" + i + "].content: only text parts are supported");
                }
                sb.append(part.path("text").asString());
            }
            return sb.toString();
        }
        throw new BadRequest("messages", "messages[" + i + "].content: must be a string or a list of text parts");
    }

    private static Integer integer(JsonNode body, String field, int min, int max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < min || v.intValue() > max) {
            throw new BadRequest(field, field + ": must be an integer between " + min + " and " + max);
        }
        return v.intValue();
    }

    private static double number(JsonNode body, String field, double min, double max, double fallback) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber() || !(v.doubleValue() >= min && v.doubleValue() <= max)) {
            throw new BadRequest(field, field + ": must be a number between " + min + " and " + max);
        }
        return v.doubleValue();
    }

    /** One choice being generated: its tokens, its text so far, and what of it was already streamed. */
    private final class Choice {
        final List<Integer> tokens = new ArrayList<>();
        final List<ObjectNode> logprobs = new ArrayList<>(); // one per reported token
        String text = "";
        int streamed; // characters of text already sent
        int reportedTokens; // logprob entries already sent
        boolean stopped;
    }

    /**
     * Runs a request. With {@code stream}, every chunk goes to {@code chunks} as it is ready (the caller writes
     * {@code data: [DONE]} after); the return value is then null. Otherwise the whole response is returned.
     */
    public synchronized ObjectNode run(Request r, Consumer<ObjectNode> chunks) {
        String id = (r.chat() ? "chatcmpl-" : "cmpl-") + HexFormat.of().formatHex(randomBytes());
        long created = now();
        Choice[] choices = new Choice[r.n()];
        for (int i = 0; i < r.n(); i++) {
            choices[i] = new Choice();
        }
        if (r.stream() && r.chat()) {
            for (int i = 0; i < r.n(); i++) {
                ObjectNode c = chunk(id, created, true);
                ObjectNode choice = ((ArrayNode) c.get("choices")).addObject().put("index", i);
                choice.putObject("delta").put("role", "assistant").put("content", "");
                choice.putNull("logprobs");
                choice.putNull("finish_reason");
                chunks.accept(c);
            }
        }
        List<int[]> prompts = new ArrayList<>();
        long[] seeds = new long[r.n()];
        for (int i = 0; i < r.n(); i++) {
            prompts.add(r.prompt());
            seeds[i] = r.seed() + i;
        }
        GenerationConfig config = new GenerationConfig(r.maxTokens(), r.temperature(), r.topP(), 0, r.seed(), true);
        List<GeneratedSequence> out = new Generator(model, BlockMask.none()).generate(prompts, config, eos, seeds,
                () -> { }, (row, token, logits, offset, vocab) -> {
                    Choice c = choices[row];
                    c.tokens.add(token);
                    if (r.wantsLogprobs()) {
                        // an EOS is reported too: its position's distribution is what a judge reading the first
                        // token's top_logprobs needs, whichever token was drawn
                        c.logprobs.add(logprob(token, logits, offset, vocab, r.logprobs()));
                    }
                    if (eos.contains(token)) {
                        return false; // the generator ends the row; an EOS is not text
                    }
                    c.text = tokenizer.decode(c.tokens.stream().mapToInt(Integer::intValue).toArray(), true);
                    // a trailing U+FFFD may be a character still incomplete: stops are looked for before it
                    int at = firstStop(c.text.substring(0, complete(c.text)), r.stop());
                    if (at >= 0) {
                        c.text = c.text.substring(0, at);
                        c.stopped = true;
                    }
                    if (r.stream()) {
                        emit(r, id, created, row, c, c.stopped ? c.text.length() : safeLength(c.text, r.stop()), null,
                                chunks);
                    }
                    return c.stopped;
                });
        int completion = 0;
        for (GeneratedSequence s : out) {
            completion += s.tokens().length;
        }
        ObjectNode usage = mapper.createObjectNode().put("prompt_tokens", r.prompt().length * 1)
                .put("completion_tokens", completion).put("total_tokens", r.prompt().length + completion);
        if (r.stream()) {
            for (int i = 0; i < r.n(); i++) {
                emit(r, id, created, i, choices[i], choices[i].text.length(), finish(out.get(i).finishReason()), chunks);
            }
            if (r.includeUsage()) {
                ObjectNode c = chunk(id, created, r.chat());
                c.set("usage", usage);
                chunks.accept(c);
            }
            return null;
        }
        ObjectNode response = mapper.createObjectNode();
        response.put("id", id).put("object", r.chat() ? "chat.completion" : "text_completion").put("created", created)
                .put("model", modelName);
        ArrayNode list = response.putArray("choices");
        for (int i = 0; i < r.n(); i++) {
            Choice c = choices[i];
            ObjectNode choice = list.addObject().put("index", i);
            if (r.chat()) {
                choice.putObject("message").put("role", "assistant").put("content", c.text).putNull("refusal");
            } else {
                choice.put("text", c.text);
            }
            if (r.wantsLogprobs()) {
                choice.set("logprobs", logprobsNode(r, c.logprobs, 0));
            } else {
                choice.putNull("logprobs");
            }
            choice.put("finish_reason", finish(out.get(i).finishReason()));
        }
        response.set("usage", usage);
        return response;
    }

    /** Sends what is new in a choice: text up to {@code upTo}, the logprobs of its new tokens, and the finish reason. */
    private void emit(Request r, String id, long created, int index, Choice c, int upTo, String finishReason,
            Consumer<ObjectNode> chunks) {
        String delta = upTo > c.streamed ? c.text.substring(c.streamed, upTo) : "";
        boolean newLogprobs = r.wantsLogprobs() && c.logprobs.size() > c.reportedTokens
                && (finishReason != null || !delta.isEmpty());
        if (delta.isEmpty() && finishReason == null && !newLogprobs) {
            return;
        }
        ObjectNode chunk = chunk(id, created, r.chat());
        ObjectNode choice = ((ArrayNode) chunk.get("choices")).addObject().put("index", index);
        if (r.chat()) {
            ObjectNode d = choice.putObject("delta");
            if (!delta.isEmpty()) {
                d.put("content", delta);
            }
        } else {
            choice.put("text", delta);
        }
        if (newLogprobs) {
            choice.set("logprobs", logprobsNode(r, c.logprobs.subList(c.reportedTokens, c.logprobs.size()), c.streamed));
            c.reportedTokens = c.logprobs.size();
        } else {
            choice.putNull("logprobs");
        }
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        c.streamed = Math.max(c.streamed, upTo);
        chunks.accept(chunk);
    }

    private ObjectNode chunk(String id, long created, boolean chat) {
        ObjectNode c = mapper.createObjectNode();
        c.put("id", id).put("object", chat ? "chat.completion.chunk" : "text_completion").put("created", created)
                .put("model", modelName);
        c.putArray("choices");
        return c;
    }

    /** One token's entry: its text, UTF-8 bytes, log-probability and the {@code k} most likely alternatives. */
    private ObjectNode logprob(int token, float[] logits, int offset, int vocab, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
            max = Math.max(max, logits[offset + v]);
        }
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            sum += Math.exp(logits[offset + v] - max);
        }
        double logZ = max + Math.log(sum);
        ObjectNode o = entry(token, logits[offset + token] - logZ);
        ArrayNode top = o.putArray("top_logprobs");
        Integer[] ids = new Integer[vocab];
        for (int v = 0; v < vocab; v++) {
            ids[v] = v;
        }
        Arrays.sort(ids, (a, b) -> Float.compare(logits[offset + b], logits[offset + a])); // highest first, ties by id
        for (int i = 0; i < Math.min(k, vocab); i++) {
            top.add(entry(ids[i], logits[offset + ids[i]] - logZ));
        }
        return o;
    }

    private ObjectNode entry(int token, double logprob) {
        String text = tokenizer.decode(new int[] {token}, false);
        ObjectNode o = mapper.createObjectNode().put("token", text).put("logprob", logprob);
        ArrayNode bytes = o.putArray("bytes");
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            bytes.add(b & 0xff);
        }
        return o;
    }

    /** Chat: {@code {"content": [...], "refusal": null}}; completions: the legacy parallel lists. */
    private ObjectNode logprobsNode(Request r, List<ObjectNode> entries, int textOffset) {
        ObjectNode o = mapper.createObjectNode();
        if (r.chat()) {
            ArrayNode content = o.putArray("content");
            entries.forEach(content::add);
            o.putNull("refusal");
            return o;
        }
        ArrayNode tokens = o.putArray("tokens");
        ArrayNode lps = o.putArray("token_logprobs");
        ArrayNode tops = o.putArray("top_logprobs");
        ArrayNode offsets = o.putArray("text_offset");
        int at = textOffset;
        for (ObjectNode e : entries) {
            tokens.add(e.get("token").asString());
            lps.add(e.get("logprob").asDouble());
            ObjectNode top = tops.addObject();
            e.get("top_logprobs").forEach(t -> top.put(t.get("token").asString(), t.get("logprob").asDouble()));
            offsets.add(at);
            at += e.get("token").asString().length();
        }
        return o;
    }

    /** Where the first stop sequence starts in {@code text}, or -1. */
    static int firstStop(String text, List<String> stop) {
        int best = -1;
        for (String s : stop) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        return best;
    }

    /**
     * How much of {@code text} may be streamed now: not a trailing incomplete character (U+FFFD from a partial UTF-8
     * sequence) and not a suffix that is the start of a stop sequence.
     */
    static int safeLength(String text, List<String> stop) {
        int end = complete(text);
        int hold = 0;
        for (String s : stop) {
            for (int k = Math.min(s.length() - 1, end); k > hold; k--) {
                if (text.startsWith(s.substring(0, k), end - k)) {
                    hold = k;
                    break;
                }
            }
        }
        return end - hold;
    }

    /** The length of {@code text} without trailing U+FFFD (what a partial UTF-8 sequence decodes to). */
    static int complete(String text) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '\uFFFD') {
            end--;
        }
        return end;
    }

    private static String finish(FinishReason reason) {
        return reason == FinishReason.LENGTH ? "length" : "stop";
    }

    private long now() {
        return clock.millis() / 1000;
    }

    private byte[] randomBytes() {
        byte[] b = new byte[12];
        random.nextBytes(b);
        return b;
    }
}
