package dev.amalgam.merge;

import dev.amalgam.job.CancelledException;
import dev.amalgam.job.Progress;
import dev.amalgam.merge.kernel.FloatSource;
import dev.amalgam.merge.method.MergeInputs;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.plan.MergePlan;
import dev.amalgam.merge.plan.PlannedTensor;
import dev.amalgam.merge.plan.RowDefaults;
import dev.amalgam.merge.plan.TensorInput;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.ShardedCheckpointWriter;
import dev.amalgam.modelio.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a plan tensor by tensor on several threads: each worker takes the next tensor (largest first) and has the
 * method merge it from the memory-mapped inputs (widened to FP32 as the method reads them) into the sharded writer,
 * which narrows each chunk as it arrives and finishes each shard as soon as its last tensor is complete. A byte
 * budget bounds the buffers in flight.
 */
final class TensorExecutor {

    private final MergePlan plan;
    private final Map<String, HfModelDir> models;
    private final ShardedCheckpointWriter writer;
    private final Progress progress;
    private int lastPercent = -1;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    private final Semaphore memory;
    private final int budgetKiB;
    private final int[] order;
    /** The plan's method, prepared by {@link MergeMethod#prepare} when the run starts. */
    private volatile MergeMethod method;

    TensorExecutor(MergePlan plan, Map<String, HfModelDir> models, ShardedCheckpointWriter writer,
                   Progress progress, long memoryBudget) {
        this.plan = plan;
        this.models = models;
        this.writer = writer;
        this.progress = progress;
        this.budgetKiB = (int) Math.min(Integer.MAX_VALUE, Math.max(1, memoryBudget >> 10));
        this.memory = new Semaphore(budgetKiB, true);
        // largest tensors first, so a big embedding does not start last and leave the other cores idle at the end
        this.order = java.util.stream.IntStream.range(0, plan.tensors().size()).boxed()
                .sorted(java.util.Comparator.comparingLong((Integer i) -> -plan.tensors().get(i).numel()))
                .mapToInt(Integer::intValue).toArray();
    }

    /** Runs all tensors; throws the first failure after the other workers stopped. */
    void run(int threads) {
        method = plan.method().prepare(plan.tensors().stream().filter(PlannedTensor::merged)
                .map(t -> new dev.amalgam.merge.method.TensorView(t.name(),
                        t.inputs().stream().map(TensorInput::model).toList(), t.baseIndex(), t.params(),
                        () -> t.inputs().stream().map(in -> source(in, t)).toList()))
                .toList());
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(this::work, "merge-worker-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
        for (Thread t : workers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure.compareAndSet(null, new MergeException("merge interrupted", e));
            }
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    private void work() {
        List<PlannedTensor> tensors = plan.tensors();
        while (failure.get() == null) {
            int i = next.getAndIncrement();
            if (i >= tensors.size()) {
                return;
            }
            PlannedTensor task = tensors.get(order[i]);
            try {
                // a copied tensor (a Llava vision tower) has no method parameters and holds no buffer
                long held = task.merged() ? plan.method().bufferedTensors(task.params(), task.inputs().size()) : 0;
                int cost = (int) Math.min(budgetKiB, (held * task.numel() * 4) >> 10);
                memory.acquire(cost);
                try {
                    compute(task);
                } finally {
                    memory.release(cost);
                }
                report(tensors.size(), task.name());
                if (progress.isCancelled()) {
                    // the other workers stop at their next tensor; nothing is published
                    failure.compareAndSet(null, new CancelledException("merge cancelled after " + done.get() + " of "
                            + tensors.size() + " tensors"));
                }
            } catch (CancelledException e) {
                failure.compareAndSet(null, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure.compareAndSet(null, new MergeException("merge interrupted", e));
            } catch (RuntimeException | OutOfMemoryError e) {
                failure.compareAndSet(null, new MergeException("merge failed at tensor '" + task.name() + "': "
                        + e.getMessage(), e));
            }
        }
    }

    private void compute(PlannedTensor task) {
        if (!task.merged()) {
            TensorInput in = task.inputs().get(0);
            writer.writeRaw(task.name(), models.get(in.model()).tensor(in.tensorName()).rawBytes());
            return;
        }
        List<FloatSource> sources = new ArrayList<>(task.inputs().size());
        for (TensorInput in : task.inputs()) {
            sources.add(source(in, task));
        }
        method.merge(MergeInputs.streamed(task.name(), task.shape(), sources, task.modelParams(), task.baseIndex(),
                task.params(), task.seed()), task.dtype() == DType.I64
                ? (from, values, offset, length) -> writeInt64(task.name(), from, values, offset, length)
                : (from, values, offset, length) ->
                        writer.writeFloats(task.name(), from, values, offset, length)); // narrowed as each chunk arrives
    }

    /**
     * {@code dtype: int64} (a name mergekit accepts): each value truncated toward zero, as torch's
     * {@code tensor.to(torch.int64)}; NaN becomes 0 and infinities saturate (torch leaves those undefined).
     */
    private void writeInt64(String name, long from, float[] values, int offset, int length) {
        ByteBuffer b = ByteBuffer.allocate(length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < length; i++) {
            b.putLong((long) values[offset + i]);
        }
        b.flip();
        writer.writeRaw(name, from * Long.BYTES, b);
    }

    /**
     * An input as the method reads it: the mapped tensor itself (widened range by range as the method reads it),
     * or, when its rows are remapped to another vocabulary, an array built here.
     */
    private FloatSource source(TensorInput in, PlannedTensor task) {
        Tensor t = models.get(in.model()).tensor(in.tensorName());
        int n = (int) task.numel();
        if (in.rows() < 0 || in.rowMap() == null) {
            // the whole tensor, or its first rows (common sub-matrix / same vocabulary)
            return new FloatSource() {
                @Override
                public int length() {
                    return n;
                }

                @Override
                public void read(int from, float[] dst, int offset, int length) {
                    t.readFloats(from, dst, offset, length);
                }
            };
        }
        return FloatSource.of(remapRows(t, in, task));
    }

    /** The rows of a tensor in the output vocabulary's order; missing tokens get the mean of their default rows. */
    private float[] remapRows(Tensor t, TensorInput in, PlannedTensor task) {
        float[] dst = new float[(int) task.numel()];
        int cols = (int) task.shape()[1];
        int[] map = in.rowMap();
        RowDefaults defaults = in.defaults();
        float[] row = new float[cols];
        int real = in.padFrom() >= 0 ? in.padFrom() : map.length;
        for (int r = 0; r < real; r++) {
            if (map[r] >= 0) {
                t.readFloats((long) map[r] * cols, dst, r * cols, cols);
                continue;
            }
            // a token this model lacks: the mean of the default source rows (one source in most cases)
            int from = defaults.offsets()[r];
            int to = defaults.offsets()[r + 1];
            for (int e = from; e < to; e++) {
                TensorInput src = task.inputs().get(defaults.inputs()[e]);
                models.get(src.model()).tensor(src.tensorName()).readFloats((long) defaults.rows()[e] * cols, row, 0,
                        cols);
                for (int c = 0; c < cols; c++) {
                    dst[r * cols + c] += row[c];
                }
            }
            if (to - from > 1) {
                for (int c = 0; c < cols; c++) {
                    dst[r * cols + c] /= to - from;
                }
            }
        }
        if (real < map.length) {
            // padding rows: the mean of this model's token rows (mergekit's fill, after the vocab-expansion note)
            double[] mean = new double[cols];
            for (int r = 0; r < real; r++) {
                for (int c = 0; c < cols; c++) {
                    mean[c] += dst[r * cols + c];
                }
            }
            for (int r = real; r < map.length; r++) {
                for (int c = 0; c < cols; c++) {
                    dst[r * cols + c] = (float) (mean[c] / real);
                }
            }
        }
        return dst;
    }

    /** Progress at most once per percent (every tensor when there are fewer than 100). */
    private synchronized void report(int total, String tensor) {
        // counted under the lock: a count taken before it could arrive out of order and skip a percent
        int tensorsDone = done.incrementAndGet();
        int percent = (int) (100L * tensorsDone / total);
        if (percent > lastPercent) {
            lastPercent = percent;
            progress.progress(tensorsDone / (double) total, "merged " + tensorsDone + " of " + total + " tensors (" + tensor + ")");
        }
    }
}
