package dev.amalgam.fusion.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.data.ChatTokenizer;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.fusion.data.TokenizedPreference;
import dev.amalgam.fusion.loss.LossType;
import dev.amalgam.fusion.loss.PreferenceLosses.BaselineChosen;
import dev.amalgam.fusion.sft.PackedSft;
import dev.amalgam.fusion.testing.DirectBuffers;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.fusion.wrpo.PreferenceMetrics;
import dev.amalgam.fusion.wrpo.PreferenceObjective;
import dev.amalgam.fusion.wrpo.ReferenceLogps;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A training step does not depend on when the JVM frees unreachable direct buffers: whatever autograd keeps from a
 * micro-batch's forward for its backward (loss scalars, LoRA scaling, token ids) is memory PyTorch owns.
 */
class BackwardAfterCollectionTest {

    private static final List<int[]> MICRO = List.of(new int[] {0, 1}, new int[] {2, 3});

    @TempDir
    static Path dir;
    static Path modelDir;
    static List<TokenizedPreference> records;
    static ReferenceLogps reference;

    @BeforeAll
    static void data() {
        modelDir = TinyData.llama(dir, 8);
        records = TinyData.tokenizedPatterned(modelDir, 4, 2);
        // A reference other than the policy, so that the first step's rewards and gradients are not trivial.
        try (FullFineTune m = new FullFineTune(CheckpointLoader.load(TinyData.llama(dir.resolve("ref"), 9),
                EngineOptions.cpu()))) {
            reference = ReferenceLogps.compute(m, records, 4);
        }
    }

    @ParameterizedTest
    @EnumSource(LossType.class)
    void preferenceStepIsTheSameWhenBuffersAreFreedBeforeBackward(LossType loss) {
        Function<Boolean, MicroObjective<int[]>> objective = free -> {
            PreferenceObjective o = new PreferenceObjective(records, reference, loss, 0.5, 0.3,
                    loss.supportsLabelSmoothing() ? 0.1 : 0, BaselineChosen.TARGET,
                    new PreferenceMetrics());
            o.prepare(0.4, 4);
            return freeing(o, free);
        };
        List<float[]> undisturbed = step(FullFineTune::new, objective.apply(false), MICRO);
        assertThat(step(FullFineTune::new, objective.apply(true), MICRO)).zipSatisfy(undisturbed,
                (freed, expected) -> assertThat(freed).containsExactly(expected));
    }

    @Test
    void loraStepIsTheSameWhenBuffersAreFreedBeforeBackward() {
        Function<LlamaModel, TrainableModel> lora = m -> new LoraModel(m,
                new LoraSettings(2, 4, List.of("q_proj", "v_proj", "down_proj")), 3);
        Function<Boolean, MicroObjective<int[]>> objective = free -> {
            PreferenceObjective o = new PreferenceObjective(records, reference, LossType.WRPO, 0.5, 0, 0,
                    BaselineChosen.TARGET, null);
            o.prepare(0.4, 4);
            return freeing(o, free);
        };
        // Two steps: B is zero before the first, so only the second moves the adapted weights through A and B.
        List<float[]> undisturbed = steps(lora, objective.apply(false), 2);
        assertThat(steps(lora, objective.apply(true), 2)).zipSatisfy(undisturbed,
                (freed, expected) -> assertThat(freed).containsExactly(expected));
    }

    @Test
    void sftStepIsTheSameWhenBuffersAreFreedBeforeBackward() {
        List<int[]> conversations = new ArrayList<>();
        try (TextTokenizer tok = TextTokenizer.load(modelDir)) {
            ChatTokenizer ct = new ChatTokenizer(tok, 64, 32);
            for (PreferenceRecord r : TinyData.patterned(6, 4)) {
                conversations.add(ct.conversationIds(r.prompt(), r.sourceChosen()));
            }
        }
        PackedSft sft = PackedSft.pack(conversations, 24, 5);
        List<int[]> micro = List.of(new int[] {0, 1}, new int[] {2});
        sft.prepare(micro);
        List<float[]> undisturbed = step(FullFineTune::new, freeing(sft, false), micro);
        sft.prepare(micro);
        assertThat(step(FullFineTune::new, freeing(sft, true), micro)).zipSatisfy(undisturbed,
                (freed, expected) -> assertThat(freed).containsExactly(expected));
    }

    /** The objective, freeing unreachable direct buffers after each forward (before the trainer's backward). */
    private static MicroObjective<int[]> freeing(MicroObjective<int[]> objective, boolean free) {
        return (model, micro, scope) -> {
            NDArray loss = objective.loss(model, micro, scope);
            if (free) {
                DirectBuffers.freeUnreachable();
            }
            return loss;
        };
    }

    private static List<float[]> step(Function<LlamaModel, TrainableModel> wrap, MicroObjective<int[]> objective,
            List<int[]> micro) {
        return run(wrap, objective, micro, 1);
    }

    private static List<float[]> steps(Function<LlamaModel, TrainableModel> wrap, MicroObjective<int[]> objective,
            int n) {
        return run(wrap, objective, MICRO, n);
    }

    private static List<float[]> run(Function<LlamaModel, TrainableModel> wrap, MicroObjective<int[]> objective,
            List<int[]> micro, int n) {
        try (TrainableModel m = wrap.apply(CheckpointLoader.load(modelDir, EngineOptions.cpu()));
                NDManager opt = m.base().manager().newSubManager()) {
            Trainer t = new Trainer(m, new AdamW(opt, 0.9, 0.999, 1e-8, 0.01), new CosineSchedule(1e-2, 10, 0), 1.0,
                    LossScaler.none());
            for (int s = 0; s < n; s++) {
                assertThat(t.step(s, micro, objective).applied()).isTrue();
            }
            List<float[]> out = new ArrayList<>();
            for (TrainableParameter p : m.parameters()) {
                out.add(p.master().toFloatArray());
            }
            return out;
        }
    }
}
