package dev.amalgam.merge.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The parallel loops of {@link Chunks}: each task once, failures surfaced after the loop, nesting safe. */
class ChunksTest {

    @Test
    void runsEveryTaskExactlyOnce() {
        for (int tasks : new int[] {0, 1, 2, 3, 1000}) {
            AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(1, tasks));
            Chunks.parallel(tasks, i -> runs.incrementAndGet(i));
            for (int i = 0; i < tasks; i++) {
                assertThat(runs.get(i)).as("task %d of %d", i, tasks).isEqualTo(1);
            }
        }
    }

    @Test
    void forEachCoversTheRangeInFixedChunks() {
        int n = 3 * Chunks.SIZE + 17;
        AtomicIntegerArray covered = new AtomicIntegerArray(n);
        Chunks.forEach(n, (c, from, to) -> {
            assertThat(from).isEqualTo(c * Chunks.SIZE);
            assertThat(to).isEqualTo(Math.min(n, (c + 1) * Chunks.SIZE));
            for (int i = from; i < to; i++) {
                covered.incrementAndGet(i);
            }
        });
        for (int i = 0; i < n; i++) {
            assertThat(covered.get(i)).isEqualTo(1);
        }
    }

    @Test
    void aFailureIsRethrownOnlyOnceNoTaskIsRunning() {
        AtomicInteger running = new AtomicInteger();
        IllegalArgumentException boom = new IllegalArgumentException("task 3 failed");
        assertThatThrownBy(() -> Chunks.parallel(64, i -> {
            running.incrementAndGet();
            try {
                if (i == 3) {
                    throw boom;
                }
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                running.decrementAndGet();
            }
        })).isSameAs(boom);
        assertThat(running.get()).isZero();
    }

    @Test
    void nestedLoopsComplete() {
        AtomicInteger inner = new AtomicInteger();
        assertTimeoutPreemptively(Duration.ofSeconds(30), () ->
                Chunks.parallel(16, i -> Chunks.parallel(16, j -> inner.incrementAndGet())));
        assertThat(inner.get()).isEqualTo(256);
    }
}
