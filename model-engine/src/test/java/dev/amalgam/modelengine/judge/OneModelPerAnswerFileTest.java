package dev.amalgam.modelengine.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** MT-Bench's and Arena-Hard's answer files hold one model each: a second model is refused naming its line and field. */
class OneModelPerAnswerFileTest {

    @TempDir
    Path dir;

    @Test
    void mtBenchAnswerFileWithASecondModelIdIsRefusedOnItsLine() throws Exception {
        Path file = dir.resolve("answers.jsonl");
        Files.writeString(file, """
                {"question_id": 1, "model_id": "a", "choices": [{"index": 0, "turns": ["x"]}]}
                {"question_id": 2, "model_id": "b", "choices": [{"index": 0, "turns": ["y"]}]}
                """);
        assertThatThrownBy(() -> MtBench.readAnswers(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("answers.jsonl line 2: model_id 'b' differs from 'a' on the lines before (one model per answer file)");
        Files.writeString(file, """
                {"question_id": 1, "model_id": "a", "choices": [{"index": 0, "turns": ["x"]}]}
                {"question_id": 2, "model_id": "a", "choices": [{"index": 0, "turns": ["y"]}]}
                """);
        assertThat(MtBench.readAnswers(file)).hasSize(2);
    }

    @Test
    void arenaHardAnswerFileWithASecondModelIsRefusedOnItsLine() throws Exception {
        Path file = dir.resolve("answers.jsonl");
        Files.writeString(file, """
                {"uid": "u1", "model": "a", "messages": [{"role": "assistant", "content": {"answer": "x"}}]}
                {"uid": "u2", "model": "b", "messages": [{"role": "assistant", "content": {"answer": "y"}}]}
                """);
        assertThatThrownBy(() -> ArenaHard.readAnswers(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("answers.jsonl line 2: model 'b' differs from 'a' on the lines before (one model per answer file)");
    }
}
