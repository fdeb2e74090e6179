package dev.amalgam.merge.config;

import java.util.Map;
import java.util.Set;

/**
 * The chat templates a config may name, as mergekit ships them ({@code mergekit/_data/chat_templates}): written
 * here so that, rendered the way transformers renders templates ({@code trim_blocks} and {@code lstrip_blocks}
 * on), each gives the same text as mergekit's file. That includes the layout artefacts of those files: llama3
 * ends every message with a newline after {@code <|eot_id|>}; alpaca starts with the last system message (or
 * nothing) and a blank line, and puts no separator before a final {@code ### Response:}; exaone keeps the
 * indentation of mergekit's file (four or eight spaces before its expressions) and an empty line after each
 * message; mistral fails (raise_exception) on roles that do not alternate. Anything else with a {@code '{'}
 * and at least 20 characters is taken as a literal template, as mergekit does.
 */
public final class ChatTemplates {

    private static final Map<String, String> BUILT_IN = Map.of(
            "alpaca",
            "{% set system = messages | selectattr('role', 'equalto', 'system') | list %}"
                    + "{{ (system | last).content | trim if system else '' }}{{ '\\n\\n' }}{% for message in messages %}"
                    + "{% set sep = '' if loop.last else '\\n\\n' %}{% if message['role'] == 'user' %}"
                    + "{{ '### Instruction:\\n' + (message['content'] | trim) + sep }}"
                    + "{% elif message['role'] == 'assistant' %}"
                    + "{{ '### Response:\\n' + (message['content'] | trim) + sep }}"
                    + "{% elif message['role'] == 'user_context' %}"
                    + "{{ '### Input:\\n' + (message['content'] | trim) + sep }}{% endif %}{% endfor %}"
                    + "{% if add_generation_prompt and (messages | last)['role'] != 'assistant' %}"
                    + "{{ '### Response:\\n' }}{% endif %}",
            "chatml",
            "{% for message in messages %}"
                    + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
                    + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
            "exaone",
            "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
                    + "{{ '        [|system|][|endofturn|]\\n\\n' }}{% endif %}"
                    + "{{ '    [|' + message['role'] + '|]' + message['content'] + '\\n' }}"
                    + "{% if message['role'] == 'user' %}{{ '        \\n\\n' }}{% else %}"
                    + "{{ '        [|endofturn|]\\n\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}"
                    + "{{ '    [|assistant|]\\n' }}{% endif %}",
            "llama3",
            "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}"
                    + "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + (message['content'] | trim) + '<|eot_id|>\\n' }}"
                    + "{% endfor %}{% if add_generation_prompt %}"
                    + "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
            "mistral",
            "{%- set has_system = messages[0]['role'] == 'system' %}{{- bos_token }}"
                    + "{%- for message in messages %}{%- set i = loop.index0 - (1 if has_system else 0) %}"
                    + "{%- if not (has_system and loop.first) %}{%- if (message['role'] == 'user') != (i % 2 == 0) %}"
                    + "{{- raise_exception('roles must alternate user, assistant, user, ... after an optional first system message') }}"
                    + "{%- endif %}{%- if message['role'] == 'user' %}"
                    + "{{- ' [INST] ' + (messages[0]['content'] + '\\n\\n' if has_system and i == 0 else '') + message['content'] + ' [/INST]' }}"
                    + "{%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] + eos_token }}"
                    + "{%- else %}"
                    + "{{- raise_exception('only user and assistant messages, and one first system message, are supported') }}"
                    + "{%- endif %}{%- endif %}{%- endfor %}");

    private ChatTemplates() {
    }

    /** Built-in names. */
    public static Set<String> names() {
        return new java.util.TreeSet<>(BUILT_IN.keySet());
    }

    /**
     * Whether the text is a literal template rather than a name: mergekit takes any text that is not a built-in
     * name as a template if it has at least 20 characters and a {@code '{'}, and refuses the rest.
     */
    public static boolean isLiteral(String text) {
        return !BUILT_IN.containsKey(text) && text.length() >= 20 && text.contains("{");
    }

    /** The template text for a built-in name or a literal; null for {@code auto} or unknown names. */
    public static String resolve(String nameOrTemplate) {
        return BUILT_IN.containsKey(nameOrTemplate) ? BUILT_IN.get(nameOrTemplate)
                : isLiteral(nameOrTemplate) ? nameOrTemplate : null;
    }
}
