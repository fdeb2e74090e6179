package dev.amalgam.merge.config;

import java.util.Map;
import java.util.Set;

/** Chat templates a config may name; anything containing Jinja markup is taken as a literal template. */
public final class ChatTemplates {

    private static final Map<String, String> BUILT_IN = Map.of(
            "chatml", "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
                    + " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
                    + "{{ '<|im_start|>assistant\\n' }}{% endif %}",
            "llama3", "{% set loop_messages = messages %}{% for message in loop_messages %}"
                    + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
                    + " + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
                    + "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                    + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}");

    private ChatTemplates() {
    }

    /** Built-in names. */
    public static Set<String> names() {
        return new java.util.TreeSet<>(BUILT_IN.keySet());
    }

    /** Whether the text is a Jinja template rather than a name. */
    public static boolean isLiteral(String text) {
        return text.contains("{%") || text.contains("{{");
    }

    /** The template text for a built-in name or a literal; null for {@code auto} or unknown names. */
    public static String resolve(String nameOrTemplate) {
        return isLiteral(nameOrTemplate) ? nameOrTemplate : BUILT_IN.get(nameOrTemplate);
    }
}
