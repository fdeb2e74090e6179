package dev.amalgam.fusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.LlamaWeights;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Re-homes a CPU model's weights in PyTorch-allocated (64-byte aligned) memory. The engine's loader hands PyTorch Java
 * direct buffers, whose address alignment differs from run to run, and MKL's results may depend on operand alignment;
 * this removes that source of run-to-run differences (MKL's conditional numerical reproducibility, {@code MKL_CBWR},
 * and a fixed thread count handle the others; see the module README). Each original is freed right after its copy,
 * so the extra memory is one tensor at a time.
 */
final class AlignedWeights {

    private AlignedWeights() {
    }

    /** A model over aligned copies (owning them in a child manager of {@code model}'s); GPU models are returned as is. */
    static LlamaModel of(LlamaModel model) {
        if (model.options().device().isGpu()) {
            return model; // device copies are allocated by PyTorch already
        }
        NDManager copies = model.manager().newSubManager();
        Map<String, NDArray> byName = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : model.weights().namedParameters().entrySet()) {
            NDArray copy = e.getValue().duplicate(); // a PyTorch clone: fresh, aligned storage
            copy.attach(copies);
            byName.put(e.getKey(), copy);
            e.getValue().close();
        }
        LlamaWeights weights = LlamaWeights.load(model.config(), (name, shape) -> byName.get(name));
        return new LlamaModel(model.config(), model.options(), copies, weights);
    }
}
