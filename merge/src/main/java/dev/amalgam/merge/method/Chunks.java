package dev.amalgam.merge.method;

import java.util.stream.IntStream;

/**
 * Splits element-wise work on one tensor into fixed-size chunks run on the common fork-join pool, so one large
 * tensor (an embedding) does not leave the other cores idle. Chunk boundaries do not depend on the thread
 * count, so per-chunk random streams and per-chunk sums (added in chunk order) are reproducible.
 */
public final class Chunks {

    /** Elements per chunk. */
    public static final int SIZE = 1 << 18;

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
    static float[][] buffers(int count) {
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

    /** Runs the body over every chunk of [0, n), in parallel when there is more than one. */
    public static void forEach(int n, Range body) {
        int chunks = count(n);
        if (chunks == 1) {
            body.run(0, 0, n);
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(c -> body.run(c, c * SIZE, Math.min(n, (c + 1) * SIZE)));
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
