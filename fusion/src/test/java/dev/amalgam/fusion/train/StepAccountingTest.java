package dev.amalgam.fusion.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.fusion.loss.AlphaSchedule;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Step counts of both accountings, counted by hand from transformers 4.43's loop (M micro-batches per epoch). */
class StepAccountingTest {

    private static List<Integer> sizes(BatchPlan plan) {
        List<Integer> out = new ArrayList<>();
        for (long s = 0; s < plan.totalSteps(); s++) {
            out.add(plan.step(s).size());
        }
        return out;
    }

    @Test
    void oneEpochOfFiveMicroBatchesInWindowsOfTwoMakesTwoStepsAndDropsTheFifth() {
        // 10 examples, batch 2 -> M = 5; GA 2: steps after micro-batches 2 and 4; the 5th makes none
        BatchPlan ref = new BatchPlan(10, 2, 2, 1, 3, StepAccounting.REFERENCE);
        assertThat(sizes(ref)).containsExactly(2, 2);
        assertThat(ref.alphaSteps()).isEqualTo(2);
        assertThat(ref.unusedMicroBatches()).isEqualTo(1);
        assertThat(ref.epochAfter(1)).isEqualTo(0.8); // 4 of 5 micro-batches
        BatchPlan all = new BatchPlan(10, 2, 2, 1, 3, StepAccounting.ALL_BATCHES);
        assertThat(sizes(all)).containsExactly(2, 2, 1);
        assertThat(all.alphaSteps()).isEqualTo(3);
        assertThat(all.unusedMicroBatches()).isZero();
        // the same shuffled order: reference step 1 = all-batches step 1
        assertThat(ref.step(1)).containsExactlyElementsOf(all.step(1));
    }

    @Test
    void aWindowRunsAcrossTheEpochBoundaryAndTheRunStopsAtEpochsTimesFloor() {
        // M = 5, GA 2, 2 epochs: max_steps = 2 * 2 = 4; steps end at stream positions 2, 4, 6, 8
        BatchPlan ref = new BatchPlan(10, 2, 2, 2, 3, StepAccounting.REFERENCE);
        assertThat(sizes(ref)).containsExactly(2, 2, 2, 2);
        assertThat(ref.unusedMicroBatches()).isEqualTo(2); // epoch 2's 4th and 5th
        assertThat(ref.alphaSteps()).isEqualTo(4);
        assertThat(ref.epochAfter(2)).isEqualTo(1.2); // 6 micro-batches done
        // step 2 = epoch 1's last micro-batch, then epoch 2's first
        BatchPlan all = new BatchPlan(10, 2, 2, 2, 3, StepAccounting.ALL_BATCHES);
        assertThat(sizes(all)).containsExactly(2, 2, 1, 2, 2, 1);
        assertThat(ref.step(2).get(0)).isEqualTo(all.step(2).get(0));
        assertThat(ref.step(2).get(1)).isEqualTo(all.step(3).get(0));
        assertThat(ref.step(3)).containsExactly(all.step(3).get(1), all.step(4).get(0));
    }

    @Test
    void epochsShorterThanTheWindowStepAtTheirLastMicroBatchAndAtMultiplesOfTheWindow() {
        // 6 examples, batch 2 -> M = 3 < GA 4, 2 epochs: max_steps = 2 * max(1, 0) = 2. Stream positions 1..6:
        // position 3 ends epoch 1 (a short epoch's last micro-batch) -> step; position 4 is a multiple of 4 -> step;
        // max_steps reached: positions 5 and 6 make none.
        BatchPlan ref = new BatchPlan(6, 2, 4, 2, 3, StepAccounting.REFERENCE);
        assertThat(sizes(ref)).containsExactly(3, 1);
        assertThat(ref.unusedMicroBatches()).isEqualTo(2);
        // the authors' N = 2 * (3 // 4) = 0 would divide by zero; the plan's step count stands in
        assertThat(ref.alphaSteps()).isEqualTo(2);
        assertThat(sizes(new BatchPlan(6, 2, 4, 2, 3, StepAccounting.ALL_BATCHES))).containsExactly(3, 3);
    }

    @Test
    void exactWindowsLeaveNothingOver() {
        BatchPlan ref = new BatchPlan(8, 2, 4, 3, 3, StepAccounting.REFERENCE); // M = 4 = GA, 3 epochs
        assertThat(sizes(ref)).containsExactly(4, 4, 4);
        assertThat(ref.unusedMicroBatches()).isZero();
        assertThat(ref.alphaSteps()).isEqualTo(3);
        for (long s = 0; s < 3; s++) {
            assertThat(ref.stepExamples(s)).isEqualTo(8);
        }
    }

    @Test
    void alphaReachesItsEndAtTheAuthorsN() {
        // 9 examples, batch 1, GA 4: M = 9, steps end at 4 and 8, N = 9 // 4 = 2
        BatchPlan ref = new BatchPlan(9, 1, 4, 1, 3, StepAccounting.REFERENCE);
        assertThat(ref.totalSteps()).isEqualTo(2);
        AlphaSchedule a = AlphaSchedule.linear(0.1, ref.alphaSteps());
        assertThat(a.alpha(0)).isEqualTo(0.0);
        assertThat(a.alpha(1)).isEqualTo(0.05); // global_step 1 of N = 2
        // all-batches: 3 steps (4, 4, 1), N = 3
        BatchPlan all = new BatchPlan(9, 1, 4, 1, 3, StepAccounting.ALL_BATCHES);
        assertThat(sizes(all)).containsExactly(4, 4, 1);
        assertThat(AlphaSchedule.linear(0.1, all.alphaSteps()).alpha(1)).isCloseTo(0.1 / 3, org.assertj.core.api
                .Assertions.within(1e-15));
    }
}
