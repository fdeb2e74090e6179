package dev.amalgam.modelengine.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A model directory's tokenizer: DJL's Hugging Face tokenizers on {@code tokenizer.json}, plus the special tokens
 * and chat template of {@code tokenizer_config.json} (or {@code chat_template.jinja}).
 *
 * <pre>{@code
 * try (TextTokenizer tok = TextTokenizer.load(modelDir)) {
 *     int[] ids = tok.encode("Hello", true);
 *     String text = tok.decode(ids, true);
 * }
 * }</pre>
 */
public final class TextTokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final String bosToken;
    private final String eosToken;
    private final Integer bosTokenId;
    private final Integer eosTokenId;
    private final Integer padTokenId;
    private final ChatTemplate chatTemplate;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, JsonNode tokenizerConfig, String chatTemplateSource) {
        this.tokenizer = tokenizer;
        this.bosToken = tokenText(tokenizerConfig.path("bos_token"));
        this.eosToken = tokenText(tokenizerConfig.path("eos_token"));
        this.bosTokenId = idOf(bosToken);
        this.eosTokenId = idOf(eosToken);
        this.padTokenId = idOf(tokenText(tokenizerConfig.path("pad_token")));
        Map<String, String> specials = new HashMap<>();
        specials.put("bos_token", bosToken == null ? "" : bosToken);
        specials.put("eos_token", eosToken == null ? "" : eosToken);
        this.chatTemplate = chatTemplateSource == null ? null : new ChatTemplate(chatTemplateSource, specials);
    }

    /** Loads {@code tokenizer.json} (required) and {@code tokenizer_config.json} (optional) from a model directory. */
    public static TextTokenizer load(Path modelDir) {
        Path json = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(json)) {
            throw new IllegalArgumentException(modelDir + " has no tokenizer.json (only fast tokenizers are supported)");
        }
        try {
            dev.amalgam.modelengine.DjlRuntime.engine(); // sets offline mode before DJL resolves the tokenizer natives
            Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false",
                    "maxLength", "-1");
            HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(json, options);
            JsonNode config = JsonMapper.builder().build().createObjectNode();
            Path configPath = modelDir.resolve("tokenizer_config.json");
            if (Files.isRegularFile(configPath)) {
                config = JsonMapper.builder().build().readTree(Files.readString(configPath));
            }
            return new TextTokenizer(tok, config, chatTemplateSource(modelDir, config));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load tokenizer of " + modelDir, e);
        }
    }

    private static String chatTemplateSource(Path modelDir, JsonNode config) throws IOException {
        Path jinja = modelDir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            return Files.readString(jinja);
        }
        JsonNode t = config.path("chat_template");
        if (t.isString()) {
            return t.asString();
        }
        if (t.isArray()) { // [{"name": "default", "template": ...}, ...]
            for (JsonNode named : t.values()) {
                if (named.path("name").asString("").equals("default")) {
                    return named.path("template").asString();
                }
            }
        }
        return null;
    }

    private static String tokenText(JsonNode node) {
        if (node.isString()) {
            return node.asString();
        }
        if (node.isObject() && node.path("content").isString()) {
            return node.path("content").asString(); // AddedToken serialised as an object
        }
        return null;
    }

    private Integer idOf(String token) {
        if (token == null) {
            return null;
        }
        long[] ids = tokenizer.encode(token, false, false).getIds();
        return ids.length == 1 ? (int) ids[0] : null;
    }

    /** Token ids of {@code text}; {@code addSpecialTokens} applies the tokenizer's post-processor (e.g. a BOS). */
    public int[] encode(String text, boolean addSpecialTokens) {
        Encoding e = tokenizer.encode(text, addSpecialTokens, false);
        return toInts(e.getIds());
    }

    /** Text of {@code ids}. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, skipSpecialTokens);
    }

    /** The chat template, when the model has one. */
    public Optional<ChatTemplate> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /** Renders a conversation with the model's template and tokenises it (the template supplies special tokens). */
    public int[] encodeChat(List<ChatMessage> messages, boolean addGenerationPrompt) {
        ChatTemplate t = chatTemplate().orElseThrow(
                () -> new IllegalStateException("this tokenizer has no chat_template"));
        return encode(t.render(messages, addGenerationPrompt), false);
    }

    public Optional<Integer> bosTokenId() {
        return Optional.ofNullable(bosTokenId);
    }

    public Optional<Integer> eosTokenId() {
        return Optional.ofNullable(eosTokenId);
    }

    public Optional<Integer> padTokenId() {
        return Optional.ofNullable(padTokenId);
    }

    /** End-of-sequence ids: the tokenizer's eos token plus {@code extra} (config.json / generation_config.json). */
    public Set<Integer> eosTokenIds(List<Integer> extra) {
        Set<Integer> s = new LinkedHashSet<>();
        eosTokenId().ifPresent(s::add);
        s.addAll(extra);
        return s;
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /** Releases the native tokenizer. */
    @Override
    public void close() {
        tokenizer.close();
    }
}
