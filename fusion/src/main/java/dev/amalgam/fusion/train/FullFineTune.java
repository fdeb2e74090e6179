package dev.amalgam.fusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.amalgam.modelengine.LlamaModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Full fine-tuning: every distinct weight of the model trains. In FP32 the weights are their own masters; in FP16
 * compute (GPU) FP32 master copies are kept and copied back into the FP16 weights after each update.
 */
public final class FullFineTune implements TrainableModel {

    private final LlamaModel loaded;
    private final LlamaModel model;
    private final NDManager masters;
    private final List<TrainableParameter> parameters = new ArrayList<>();

    /** Takes ownership of {@code model}. */
    public FullFineTune(LlamaModel model) {
        this.loaded = model;
        this.model = AlignedWeights.of(model);
        this.masters = this.model.manager().newSubManager();
        boolean half = this.model.options().computeType() != DataType.FLOAT32;
        for (Map.Entry<String, NDArray> e : this.model.weights().namedParameters().entrySet()) {
            NDArray value = e.getValue();
            value.setRequiresGradient(true);
            NDArray master = value;
            if (half) {
                master = value.toType(DataType.FLOAT32, true);
                master.attach(masters);
            }
            parameters.add(new TrainableParameter(e.getKey(), value, master));
        }
    }

    @Override
    public LlamaModel base() {
        return model;
    }

    @Override
    public List<TrainableParameter> parameters() {
        return parameters;
    }

    @Override
    public LlamaModel forwardModel(NDManager scope) {
        return model;
    }

    @Override
    public void release(LlamaModel forwardModel) {
        // the model itself: nothing to free
    }

    @Override
    public void afterUpdate() {
        for (TrainableParameter p : parameters) {
            if (p.hasSeparateMaster()) {
                try (NDArray half = p.master().toType(p.value().getDataType(), true)) {
                    p.value().set(new NDIndex("..."), half);
                }
            }
        }
    }

    @Override
    public NDArray exportWeight(String name, NDManager scope) {
        NDArray w = model.weights().namedParameters().get(name);
        if (w == null) {
            throw new IllegalArgumentException("no weight " + name);
        }
        for (TrainableParameter p : parameters) {
            if (p.name().equals(name)) {
                w = p.master();
                break;
            }
        }
        NDArray out = w.toType(DataType.FLOAT32, true);
        out.attach(scope);
        return out;
    }

    @Override
    public void close() {
        loaded.close(); // owns the aligned copies' manager too
    }
}
