package dev.amalgam.merge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.FatalTemplateErrorsException;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The built-in chat templates render, with transformers' settings (trim_blocks, lstrip_blocks), the text
 * mergekit's template files give; the expected strings are written out by hand from those files' layout.
 */
class ChatTemplatesTest {

    private static final List<String[]> WITH_SYSTEM = List.of(new String[]{"system", "You are kind. "},
            new String[]{"user", " Hi "}, new String[]{"assistant", "Hello!"}, new String[]{"user", "Bye"});
    private static final List<String[]> ONE_TURN = List.of(new String[]{"user", "Hi"}, new String[]{"assistant", "Yo"});
    private static final List<String[]> QUESTION = List.<String[]>of(new String[]{"user", "Hi"});

    @Test
    void theBuiltInsAreMergekitsFive() {
        assertThat(ChatTemplates.names()).containsExactly("alpaca", "chatml", "exaone", "llama3", "mistral");
    }

    @Test
    void llama3EndsEveryMessageWithANewlineAfterEotId() {
        assertThat(render("llama3", ONE_TURN, true)).isEqualTo(
                "<s><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>\n"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nYo<|eot_id|>\n"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        // contents are trimmed, bos only before the first message
        assertThat(render("llama3", WITH_SYSTEM, false)).isEqualTo(
                "<s><|start_header_id|>system<|end_header_id|>\n\nYou are kind.<|eot_id|>\n"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>\n"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>\n"
                        + "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>\n");
    }

    @Test
    void chatmlWrapsEachMessageInImStartAndImEnd() {
        assertThat(render("chatml", ONE_TURN, false))
                .isEqualTo("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n");
        assertThat(render("chatml", QUESTION, true)).isEqualTo("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void alpacaPutsTheSystemTextFirstAndSeparatesSectionsWithABlankLine() {
        assertThat(render("alpaca", WITH_SYSTEM, true)).isEqualTo("You are kind.\n\n### Instruction:\nHi\n\n"
                + "### Response:\nHello!\n\n### Instruction:\nBye### Response:\n");
        // without a system message the text still starts with the blank line; no prompt after an assistant turn
        assertThat(render("alpaca", ONE_TURN, true)).isEqualTo("\n\n### Instruction:\nHi\n\n### Response:\nYo");
        assertThat(render("alpaca", List.of(new String[]{"user", "Do"}, new String[]{"user_context", " it "}), false))
                .isEqualTo("\n\n### Instruction:\nDo\n\n### Input:\nit");
    }

    @Test
    void exaoneKeepsTheIndentationOfMergekitsFile() {
        assertThat(render("exaone", QUESTION, true)).isEqualTo(
                "        [|system|][|endofturn|]\n\n    [|user|]Hi\n        \n\n    [|assistant|]\n");
        assertThat(render("exaone", WITH_SYSTEM, false)).isEqualTo(
                "    [|system|]You are kind. \n        [|endofturn|]\n\n"
                        + "    [|user|] Hi \n        \n\n"
                        + "    [|assistant|]Hello!\n        [|endofturn|]\n\n"
                        + "    [|user|]Bye\n        \n\n");
    }

    @Test
    void mistralFoldsTheSystemMessageIntoTheFirstInstructionAndNeedsAlternatingRoles() {
        assertThat(render("mistral", WITH_SYSTEM, true))
                .isEqualTo("<s> [INST] You are kind. \n\n Hi  [/INST] Hello!</s> [INST] Bye [/INST]");
        assertThat(render("mistral", ONE_TURN, false)).isEqualTo("<s> [INST] Hi [/INST] Yo</s>");
        assertThatThrownBy(() -> render("mistral", List.of(new String[]{"user", "a"}, new String[]{"user", "b"}), false))
                .hasMessageContaining("alternate");
        assertThatThrownBy(() -> render("mistral", List.of(new String[]{"user", "a"}, new String[]{"tool", "b"}), false))
                .hasMessageContaining("only user and assistant");
    }

    @Test
    void literalTemplatesNeedABraceAndTwentyCharactersAsInMergekit() {
        assertThat(ChatTemplates.resolve("{{ messages[0].content }}")).isEqualTo("{{ messages[0].content }}");
        assertThat(ChatTemplates.resolve("{{ messages }}")).isNull(); // 14 characters: mergekit refuses it
        assertThat(ChatTemplates.resolve("vicuna")).isNull();
        assertThat(MergeConfig.parseYaml("merge_method: linear\nmodels: [{model: a, parameters: {weight: 1}}]\n"
                + "chat_template: mistral\n").chatTemplate()).isEqualTo("mistral");
        assertThatThrownBy(() -> MergeConfig.parseYaml("merge_method: linear\nmodels: [{model: a, parameters: {weight: 1}}]\n"
                + "chat_template: \"{{ messages }}\"\n")).isInstanceOf(MergeConfigException.class)
                .hasMessageContaining("unknown chat_template");
    }

    /** Renders as transformers does: trim_blocks, lstrip_blocks, bos/eos tokens, raise_exception. */
    static String render(String name, List<String[]> conversation, boolean addGenerationPrompt) {
        Jinjava jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplatesTest.class, "raiseException", String.class));
        List<Map<String, Object>> messages = new ArrayList<>();
        for (String[] m : conversation) {
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", m[0]);
            msg.put("content", m[1]);
            messages.add(msg);
        }
        Map<String, Object> context = new HashMap<>();
        context.put("messages", messages);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", "<s>");
        context.put("eos_token", "</s>");
        String template = ChatTemplates.resolve(name);
        assertThat(template).as(name).isNotNull();
        try {
            return jinjava.render(template, context);
        } catch (FatalTemplateErrorsException e) {
            throw new IllegalStateException(e.getErrors().toString(), e);
        }
    }

    /** The templates' raise_exception(message). */
    public static String raiseException(String message) {
        throw new IllegalStateException(message);
    }
}
