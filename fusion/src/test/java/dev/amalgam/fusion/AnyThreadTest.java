package dev.amalgam.fusion;

import dev.amalgam.job.Progress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelio.Json;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Job workers are arbitrary threads: a run must not depend on the calling thread's autograd mode, which
 * PyTorch keeps per thread and which is on by default on any thread DJL did not create the engine on.
 */
class AnyThreadTest {

    @Test
    void trainingRunsOnAThreadWhoseGradModeIsOn(@TempDir Path dir) throws Exception {
        Path model = TinyData.llama(dir.resolve("target"), 3);
        Path train = dir.resolve("train.jsonl");
        PreferenceJsonl.write(train, TinyData.patterned(4, 10));
        FusionSpec spec = FusionSpec.fromJson(Json.MAPPER.readTree("""
                {"stages": ["wrpo"], "epochs": 1, "lr": 0.001, "batchSize": 2, "gradAccum": 1, "maxLength": 48,
                 "maxPromptLength": 24, "device": "cpu", "outputDtype": "fp32"}"""));
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                DjlRuntime.engine();
                ai.djl.pytorch.jni.JniUtils.setGradMode(true); // PyTorch's default on a fresh thread
                outcome.set(FusionRunner.run(spec, model, train, null, dir.resolve("work"), dir.resolve("out"), Progress.NONE));
            } catch (Throwable e) {
                outcome.set(e);
            }
        });
        worker.start();
        worker.join();
        assertThat(outcome.get()).isInstanceOf(FusionResult.class);
        assertThat(((FusionResult) outcome.get()).stepsByStage()).containsEntry("wrpo", 2L);
    }
}
