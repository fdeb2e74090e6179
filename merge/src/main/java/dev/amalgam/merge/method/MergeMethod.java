package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import java.util.List;
import java.util.Optional;

/**
 * One merge algorithm: its name, its paper, its parameters, and how it merges one tensor.
 *
 * <p>Example: {@code MergeMethods.get("linear").merge(inputs, sink)}. Implementations are stateless and
 * thread-safe; arithmetic is FP32 (accumulations in double) whatever the storage dtype. The methods follow
 * mergekit's semantics (docs/algorithms.md, section 4; VaRM and SCE: section 3); each file holds a method's
 * parameters and per-tensor math, and the streaming, chunked and top-k kernels live in
 * {@code dev.amalgam.merge.kernel}.
 */
public interface MergeMethod {

    /** The name used in configs ({@code merge_method}). */
    String name();

    /** Paper or reference URL. */
    String reference();

    /** Global parameters (top-level {@code parameters:}). */
    default List<ParameterDef> parameters() {
        return List.of();
    }

    /** Per-model parameters ({@code models[i].parameters}). */
    default List<ParameterDef> modelParameters() {
        return List.of();
    }

    /** How {@code base_model} is used. */
    BasePolicy basePolicy();

    /**
     * Checks the number of inputs before anything is read.
     *
     * @param nonBaseModels number of models other than the base
     * @param hasBase       whether a base model is configured
     * @return a problem text, or empty
     */
    default Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return Optional.empty();
    }

    /**
     * Checks resolved parameter combinations that single-parameter ranges cannot express.
     *
     * @return problem texts (empty when fine)
     */
    default List<String> checkParams(TensorParams global, List<TensorParams> perModel) {
        return List.of();
    }

    /**
     * Whether {@link #merge} reads the inputs by range ({@link MergeInputs#source}) and holds no tensor-sized
     * buffer for a tensor with these global parameters (the executor then budgets no memory for it).
     */
    default boolean streams(TensorParams params) {
        return false;
    }

    /**
     * At most how many tensor-sized FP32 buffers merging one tensor holds at once, for the executor's memory
     * budget: by default the widened inputs, the result and a working copy, or none for a streamed method.
     */
    default int bufferedTensors(TensorParams params, int inputs) {
        return streams(params) ? 0 : inputs + 2;
    }

    /**
     * The method as it merges this plan's tensors: a method whose weights depend on statistics over many tensors
     * (VaRM at module, layer or model granularity) reads them here, once, before any tensor is merged, and
     * returns a copy holding them. By default the method itself.
     */
    default MergeMethod prepare(List<TensorView> tensors) {
        return this;
    }

    /**
     * Merges one tensor and hands the result to {@code out}, one {@link dev.amalgam.merge.kernel.Chunks} chunk per
     * call. A streamed method computes the chunks as it goes; the others merge the whole tensor and hand it over
     * with {@link FloatSink#writeAll}.
     */
    void merge(MergeInputs in, FloatSink out);
}
