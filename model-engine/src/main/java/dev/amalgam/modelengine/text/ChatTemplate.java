package dev.amalgam.modelengine.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.FatalTemplateErrorsException;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's own Jinja chat template (from tokenizer_config.json or chat_template.jinja), rendered with Jinjava
 * the way {@code transformers}' {@code apply_chat_template} does: {@code trim_blocks} and {@code lstrip_blocks}
 * on, variables {@code messages}, {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}, and a
 * {@code raise_exception(msg)} function.
 *
 * <pre>{@code
 * String prompt = template.render(List.of(ChatMessage.user("Hi")), true);
 * }</pre>
 */
public final class ChatTemplate {

    private final String source;
    private final Map<String, Object> specialTokens;
    private final Jinjava jinjava;

    /**
     * @param source the Jinja text
     * @param specialTokens e.g. {@code bos_token -> "<s>"}, made available to the template
     */
    public ChatTemplate(String source, Map<String, String> specialTokens) {
        this.source = source;
        this.specialTokens = new HashMap<>(specialTokens);
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withFailOnUnknownTokens(false).build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
    }

    /** The Jinja source. */
    public String source() {
        return source;
    }

    /** Renders the conversation; with {@code addGenerationPrompt} the text ends where the assistant's reply begins. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> msgs = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            msgs.add(map);
        }
        Map<String, Object> context = new HashMap<>(specialTokens);
        context.put("messages", msgs);
        context.put("add_generation_prompt", addGenerationPrompt);
        try {
            return jinjava.render(source, context);
        } catch (FatalTemplateErrorsException e) {
            throw new IllegalArgumentException("chat template failed: " + describe(e), e);
        }
    }

    /** The template's own raise_exception message when there is one, else Jinjava's error messages. */
    private static String describe(FatalTemplateErrorsException e) {
        StringBuilder sb = new StringBuilder();
        for (TemplateError err : e.getErrors()) {
            for (Throwable t = err.getException(); t != null; t = t.getCause()) {
                if (t instanceof TemplateException) {
                    return "the template raised: " + t.getMessage();
                }
            }
            sb.append(sb.length() == 0 ? "" : "; ").append(err.getMessage());
        }
        return sb.length() == 0 ? String.valueOf(e.getMessage()) : sb.toString();
    }

    /** Target of the template's {@code raise_exception}; public only because Jinjava calls it reflectively. */
    public static String raiseException(String message) {
        throw new TemplateException(message);
    }

    /** Raised by a template's {@code raise_exception}. */
    static final class TemplateException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TemplateException(String message) {
            super(message);
        }
    }
}
