package dev.amalgam.fusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.LlamaWeights;
import dev.amalgam.modelengine.OwnedArrays;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * LoRA adapters on the chosen projections of a frozen base. The engine's forward reads plain weight matrices, so
 * each forward runs on a view whose adapted matrices are {@code W0 + scaling * B A}, built inside the gradient
 * collector; the gradient flows into A and B only. Adapters are FP32 masters with compute-type copies on GPU.
 * {@link #exportWeight} merges the adapters into the weights, so saved checkpoints are plain Hugging Face models.
 */
public final class LoraModel implements TrainableModel {

    private final LlamaModel loaded;
    private final LlamaModel model;
    private final LoraSettings settings;
    private final NDManager adapters;
    private final List<TrainableParameter> parameters = new ArrayList<>();
    /** weight name -> {A, B} (compute-type values). */
    private final Map<String, NDArray[]> byWeight = new LinkedHashMap<>();
    /** weight name -> {A, B} FP32 masters. */
    private final Map<String, NDArray[]> mastersByWeight = new LinkedHashMap<>();

    /** Takes ownership of {@code model}; adapter A matrices are drawn from {@code seed}. */
    public LoraModel(LlamaModel model, LoraSettings settings, long seed) {
        this.loaded = model;
        this.model = AlignedWeights.of(model);
        this.settings = settings;
        this.adapters = this.model.manager().newSubManager();
        this.model.weights().setRequiresGradient(false);
        DataType compute = this.model.options().computeType();
        Random random = new Random(seed);
        for (Map.Entry<String, NDArray> e : this.model.weights().namedParameters().entrySet()) {
            String name = e.getKey();
            if (!targeted(name)) {
                continue;
            }
            long out = e.getValue().getShape().get(0);
            long in = e.getValue().getShape().get(1);
            int r = settings.rank();
            // PEFT: kaiming_uniform_(a = sqrt(5)) on A [r, in] gives U(-1/sqrt(in), 1/sqrt(in)); B [out, r] zero.
            float[] a = new float[Math.toIntExact(r * in)];
            double bound = 1.0 / Math.sqrt(in);
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
            }
            NDArray aMaster = adapters.create(a, new Shape(r, in));
            NDArray bMaster = adapters.zeros(new Shape(out, r), DataType.FLOAT32);
            NDArray aValue = compute == DataType.FLOAT32 ? aMaster : aMaster.toType(compute, true);
            NDArray bValue = compute == DataType.FLOAT32 ? bMaster : bMaster.toType(compute, true);
            aValue.attach(adapters);
            bValue.attach(adapters);
            aValue.setRequiresGradient(true);
            bValue.setRequiresGradient(true);
            String stem = name.substring(0, name.length() - ".weight".length());
            parameters.add(new TrainableParameter(stem + ".lora_A.weight", aValue, aMaster));
            parameters.add(new TrainableParameter(stem + ".lora_B.weight", bValue, bMaster));
            byWeight.put(name, new NDArray[] {aValue, bValue});
            mastersByWeight.put(name, new NDArray[] {aMaster, bMaster});
        }
        if (byWeight.isEmpty()) {
            throw new IllegalArgumentException("LoRA target modules " + settings.targetModules() + " match no weight");
        }
    }

    private boolean targeted(String name) {
        if (!name.startsWith("model.layers.") || !name.endsWith("_proj.weight")) {
            return false;
        }
        String module = name.substring(name.lastIndexOf('.', name.length() - ".weight".length() - 1) + 1,
                name.length() - ".weight".length());
        return settings.targetModules().contains(module);
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
        NDManager viewManager = scope.newSubManager();
        Map<String, NDArray> base = model.weights().namedParameters();
        LlamaWeights view = LlamaWeights.load(model.config(), (name, shape) -> {
            NDArray w = base.get(name);
            NDArray[] ab = byWeight.get(name);
            if (ab == null) {
                return w;
            }
            // W0 + scaling * B [out, r] x A [r, in] -> [out, in]
            NDArray ba = ab[1].matMul(ab[0]);
            ba.attach(viewManager); // later ops on ba allocate in the view's manager
            NDArray scaled = OwnedArrays.mul(ba, settings.scaling()); // mul keeps the scaling for backward
            NDArray merged = w.add(scaled);
            merged.attach(viewManager);
            // Backward needs neither B A nor its scaled copy (only A, B and the scalar): free them now, so the view
            // holds one extra copy of each adapted matrix rather than three.
            scaled.close();
            ba.close();
            return merged;
        });
        return new LlamaModel(model.config(), model.options(), viewManager, view);
    }

    @Override
    public void release(LlamaModel forwardModel) {
        forwardModel.close(); // closes the view's manager: merged matrices and rotary table
    }

    @Override
    public void afterUpdate() {
        for (TrainableParameter p : parameters) {
            if (p.hasSeparateMaster()) {
                try (NDArray half = p.master().toType(p.value().getDataType(), true)) {
                    p.value().set(new ai.djl.ndarray.index.NDIndex("..."), half);
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
        try (NDManager tmp = scope.newSubManager()) {
            NDArray out = w.toType(DataType.FLOAT32, true);
            out.attach(tmp);
            NDArray[] ab = mastersByWeight.get(name);
            if (ab != null) {
                NDArray ba = ab[1].matMul(ab[0]);
                ba.attach(tmp);
                out = out.add(ba.mul(settings.scaling()));
            }
            out.attach(scope);
            return out;
        }
    }

    @Override
    public void close() {
        loaded.close(); // owns the aligned copies' manager too
    }
}
