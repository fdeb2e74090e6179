package dev.amalgam.merge.kernel;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * Splits element-wise work on one tensor into fixed-size chunks run by the calling thread and helper threads, so
 * one large tensor (an embedding) does not leave the other cores idle. Chunk boundaries do not depend on the
 * thread count, so per-chunk random streams and per-chunk sums (added in chunk order) are reproducible.
 *
 * <p>The caller and the helpers claim chunks from a counter; the caller then blocks until the chunks the helpers
 * claimed are done. A helper that starts after the last chunk was claimed finds nothing to do, so the caller never
 * waits for one that is queued, and nested calls cannot deadlock. (A parallel stream's caller on the common
 * fork-join pool instead scans the pool's queues while it waits, which costs a large share of the CPU on few
 * cores; bench/README.md has the profile.)
 */
public final class Chunks {

    /** Elements per chunk. */
    public static final int SIZE = 1 << 18;

    private static final int HELPERS = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    private static final AtomicInteger HELPER_NUMBER = new AtomicInteger();
    private static final ExecutorService POOL = Executors.newFixedThreadPool(HELPERS, r -> {
        Thread t = new Thread(r, "chunk-helper-" + HELPER_NUMBER.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[0][]);

    private Chunks() {
    }

    /**
     * Per-thread arrays of one chunk's size, to assemble a chunk of a result before handing it to a
     * {@link FloatSink} or to read a chunk of an input in one sequential run (reused, so they are neither zeroed
     * nor faulted in again; they live as long as the thread). Valid until the thread's next call, so a chunk body
     * that holds them must not wait on other parallel work (the thread could run another chunk meanwhile); contents
     * undefined.
     */
    public static float[][] buffers(int count) {
        float[][] b = BUFFERS.get();
        if (b.length < count) {
            float[][] grown = java.util.Arrays.copyOf(b, count);
            for (int i = b.length; i < count; i++) {
                grown[i] = new float[SIZE];
            }
            BUFFERS.set(grown);
            b = grown;
        }
        return b;
    }

    /** Work on the element range [from, to). */
    @FunctionalInterface
    public interface Range {
        void run(int chunk, int from, int to);
    }

    /** Number of chunks covering n elements. */
    public static int count(int n) {
        return Math.max(1, (n + SIZE - 1) / SIZE);
    }

    /** Runs the body over every chunk of [0, n), in parallel when there is more than one (see {@link #parallel}). */
    public static void forEach(int n, Range body) {
        parallel(count(n), c -> body.run(c, c * SIZE, Math.min(n, (c + 1) * SIZE)));
    }

    /**
     * Runs task(0) .. task(tasks - 1) on the calling thread and the helpers; returns when all are done, or throws
     * the first failure once none is running any more (tasks not yet started are skipped).
     */
    public static void parallel(int tasks, IntConsumer task) {
        if (tasks == 1) {
            task.accept(0);
            return;
        }
        Loop loop = new Loop(tasks, task);
        for (int i = 0; i < Math.min(HELPERS, tasks - 1); i++) {
            POOL.execute(loop::work);
        }
        loop.work();
        loop.await();
    }

    /** One parallel loop: the task counter, the count of tasks still to finish and the first failure. */
    private static final class Loop {

        private final int tasks;
        private final IntConsumer task;
        private final AtomicInteger next = new AtomicInteger();
        private final CountDownLatch unfinished;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Loop(int tasks, IntConsumer task) {
            this.tasks = tasks;
            this.task = task;
            this.unfinished = new CountDownLatch(tasks);
        }

        void work() {
            for (int i; (i = next.getAndIncrement()) < tasks; ) {
                try {
                    if (failure.get() == null) {
                        task.accept(i);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    unfinished.countDown();
                }
            }
        }

        /** Blocks until every task is done (the caller has claimed the rest); keeps an interrupt for later. */
        void await() {
            boolean interrupted = false;
            while (true) {
                try {
                    unfinished.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }

    /** Per-chunk double sums added in chunk order (deterministic). */
    public static double sum(int n, RangeSum body) {
        double[] parts = new double[count(n)];
        forEach(n, (c, from, to) -> parts[c] = body.sum(from, to));
        double s = 0;
        for (double p : parts) {
            s += p;
        }
        return s;
    }

    /** A sum over an element range. */
    @FunctionalInterface
    public interface RangeSum {
        double sum(int from, int to);
    }
}
