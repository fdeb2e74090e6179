package dev.amalgam.fusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelengine.LlamaModel;
import java.util.ArrayList;
import java.util.List;

/**
 * One optimizer step over a list of micro-batches: forward and backward per micro-batch (PyTorch accumulates the
 * gradients), unscale, global-norm clipping, AdamW on the FP32 masters with the scheduled learning rate, and a copy
 * back into the compute-type weights. Steps whose gradients are not finite are skipped (and, in FP16, shrink the loss
 * scale).
 *
 * <pre>{@code
 * Trainer t = new Trainer(model, new AdamW(mgr, 0.9, 0.999, 1e-8, 0), schedule, 1.0, LossScaler.none());
 * StepStats s = t.step(step, microBatches, objective);
 * }</pre>
 */
public final class Trainer {

    private final TrainableModel model;
    private final AdamW optimizer;
    private final CosineSchedule schedule;
    private final double maxGradNorm;
    private final LossScaler scaler;
    private long appliedUpdates;

    public Trainer(TrainableModel model, AdamW optimizer, CosineSchedule schedule, double maxGradNorm,
            LossScaler scaler) {
        this.model = model;
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.maxGradNorm = maxGradNorm;
        this.scaler = scaler;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public LossScaler scaler() {
        return scaler;
    }

    /** Updates applied so far (AdamW's bias-correction count). */
    public long appliedUpdates() {
        return appliedUpdates;
    }

    public void restoreAppliedUpdates(long n) {
        appliedUpdates = n;
    }

    /** Runs optimizer step {@code step} (0-based; selects the learning rate). */
    public <T> StepStats step(long step, List<T> microBatches, MicroObjective<T> objective) {
        zeroGradients();
        double loss = 0;
        for (T mb : microBatches) {
            try (NDManager scope = model.base().manager().newSubManager();
                    GradientCollector gc = DjlRuntime.engine().newGradientCollector()) {
                LlamaModel forward = model.forwardModel(scope);
                try {
                    NDArray l = objective.loss(forward, mb, scope);
                    loss += l.getFloat();
                    gc.backward(scaler.enabled() ? l.mul(scaler.scale()) : l);
                } finally {
                    model.release(forward);
                }
            }
        }
        double lr = schedule.lr(step);
        try (NDManager scope = model.base().manager().newSubManager()) {
            List<NDArray> grads = new ArrayList<>();
            for (TrainableParameter p : model.parameters()) {
                NDArray g = p.value().getGradient();
                g.attach(scope);
                NDArray g32 = g.getDataType() == DataType.FLOAT32 && !scaler.enabled() ? g
                        : g.toType(DataType.FLOAT32, true).div(scaler.scale());
                g32.attach(scope);
                grads.add(g32);
            }
            double norm = GradientClipping.globalNorm(grads);
            if (!scaler.update(Double.isFinite(norm))) {
                return new StepStats(loss, norm, lr, false);
            }
            GradientClipping.clip(grads, norm, maxGradNorm);
            appliedUpdates++;
            for (int i = 0; i < grads.size(); i++) {
                TrainableParameter p = model.parameters().get(i);
                optimizer.update(p.name(), p.master(), grads.get(i), lr, appliedUpdates);
            }
            model.afterUpdate();
            return new StepStats(loss, norm, lr, true);
        } finally {
            zeroGradients();
        }
    }

    private void zeroGradients() {
        // set(index, Number) leaves its scalar in the array's manager: attach the gradient view to a scope first.
        try (NDManager scope = model.base().manager().newSubManager()) {
            for (TrainableParameter p : model.parameters()) {
                NDArray g = p.value().getGradient();
                g.attach(scope);
                g.set(new NDIndex("..."), 0f);
            }
        }
    }
}
