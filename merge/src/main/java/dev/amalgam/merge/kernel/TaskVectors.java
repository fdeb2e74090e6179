package dev.amalgam.merge.kernel;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Streaming passes over task vectors d_j = x_j - base for the task-arithmetic family and SCE: the inputs are read
 * a {@link Chunks} chunk at a time (one sequential read per input and chunk), the task vectors are computed into
 * per-thread buffers, and the method's math runs on blocks of {@link #BLOCK} elements, so that no input, task
 * vector or result is held whole. Every loop indexes its arrays from 0: C2 does not vectorise a loop over arrays
 * indexed at different offsets.
 */
public final class TaskVectors {

    /** Elements per block. */
    public static final int BLOCK = 2048;

    private TaskVectors() {
    }

    /** Task vector j of a merge, read a chunk at a time. */
    @FunctionalInterface
    public interface Source {
        /** Writes {@code dst[0, len) = d[from, from + len)}, given {@code base[0, len) = base[from, from + len)}. */
        void read(int from, int len, float[] base, float[] dst);

        /** d = x - base, computed as it is read. */
        static Source minusBase(FloatSource x) {
            return (from, len, base, dst) -> {
                x.read(from, dst, 0, len);
                for (int t = 0; t < len; t++) {
                    dst[t] -= base[t];
                }
            };
        }

        /** A task vector held whole (thinned already). */
        static Source of(float[] d) {
            return (from, len, base, dst) -> System.arraycopy(d, from, dst, 0, len);
        }
    }

    /** The task vectors as values for {@link TopK#select(int, int[], TopK.Values)}. */
    public static TopK.Values values(FloatSource base, Source[] d) {
        return (from, len, dst, scratch) -> {
            base.read(from, scratch, 0, len);
            for (int j = 0; j < d.length; j++) {
                d[j].read(from, len, scratch, dst[j]);
            }
        };
    }

    /** The math of one block of a weighted mix; one instance per chunk, so it may hold scratch buffers. */
    @FunctionalInterface
    public interface Mix {
        /**
         * Turns {@code result[0, len)}, which holds the base, into the merged values, given
         * {@code v[j][0, len) = w_j * (thinned d_j)} and their sum {@code sum[0, len)}, added in model order.
         */
        void block(float[] result, float[][] v, float[] sum, int len);
    }

    /**
     * The mixing pass: per chunk, reads the base and the task vectors, applies each model's cut and weight
     * ({@link VectorMath#loadWeighted}), runs the mix block by block and hands the chunk to the sink.
     *
     * @param d       the task vectors; null where the model keeps nothing (it is not read)
     * @param cuts    per model, the top-k cut to apply as d is read, or null to keep every element
     * @param weights per model
     * @param mixes   a new mix per chunk
     */
    public static void mix(int n, FloatSource base, Source[] d, TopKCut[] cuts, float[] weights,
                           Supplier<Mix> mixes, FloatSink sink) {
        int k = d.length;
        Chunks.forEach(n, (c, from, to) -> {
            float[][] buffers = Chunks.buffers(k + 2);
            float[] b = buffers[0];
            float[] out = buffers[1];
            float[][] dj = Arrays.copyOfRange(buffers, 2, k + 2);
            int len = to - from;
            base.read(from, b, 0, len);
            for (int j = 0; j < k; j++) {
                if (d[j] != null) {
                    d[j].read(from, len, b, dj[j]);
                }
            }
            Mix mix = mixes.get();
            float[][] v = new float[k][BLOCK];
            float[] sum = new float[BLOCK];
            float[] result = new float[BLOCK];
            for (int s0 = from; s0 < to; ) {
                int end = Math.min(to, s0 + BLOCK);
                for (TopKCut cut : cuts) { // a block never straddles a split, so each model has one limit in it
                    if (cut != null && cut.split()[c] > s0) {
                        end = Math.min(end, cut.split()[c]);
                    }
                }
                int bl = end - s0;
                int a0 = s0 - from;
                for (int j = 0; j < k; j++) {
                    int limit = d[j] == null ? Integer.MAX_VALUE : cuts[j] == null ? -1 : cuts[j].limit(c, s0);
                    VectorMath.loadWeighted(v[j], sum, j == 0, dj[j], a0, bl, limit, weights[j]);
                }
                System.arraycopy(b, a0, result, 0, bl);
                mix.block(result, v, sum, bl);
                System.arraycopy(result, 0, out, a0, bl);
                s0 = end;
            }
            sink.write(from, out, 0, len);
        });
    }

    /** One pass over the blocks of the task vectors; one instance per chunk, so it may hold scratch and sums. */
    public interface Pass {
        /**
         * Block [s0, s0 + len) of chunk c: {@code base[0, len)} and {@code d[j][0, len)}; {@code limit} is the
         * pass's cut limit in the block ({@link TopKCut#limit}), -1 without a cut.
         */
        void block(int c, int s0, int len, float[] base, float[][] d, int limit);

        /** After the last block of chunk c = [from, to). */
        default void endChunk(int c, int from, int to) {
        }
    }

    /**
     * One pass over d_j = x_j - base, block by block; a block never straddles the split of {@code cut} (may be
     * null) in its chunk, so it has one limit.
     */
    public static void forEachBlock(int n, FloatSource base, FloatSource[] x, TopKCut cut, Supplier<Pass> passes) {
        int k = x.length;
        Chunks.forEach(n, (c, from, to) -> {
            Pass pass = passes.get();
            float[][] d = new float[k][BLOCK];
            float[] b = new float[BLOCK];
            for (int s0 = from; s0 < to; ) {
                int end = Math.min(to, s0 + BLOCK);
                if (cut != null && cut.split()[c] > s0) {
                    end = Math.min(end, cut.split()[c]);
                }
                int len = end - s0;
                base.read(s0, b, 0, len);
                for (int j = 0; j < k; j++) {
                    float[] dj = d[j];
                    x[j].read(s0, dj, 0, len);
                    for (int t = 0; t < len; t++) {
                        dj[t] -= b[t];
                    }
                }
                pass.block(c, s0, len, b, d, cut == null ? -1 : cut.limit(c, s0));
                s0 = end;
            }
            pass.endChunk(c, from, to);
        });
    }
}
