package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSource;
import java.util.List;
import java.util.function.Supplier;

/**
 * One tensor of a planned merge as a whole-model pass before merging sees it ({@link MergeMethod#prepare}).
 *
 * @param name      the output tensor name
 * @param models    the model reference of each input, in input order
 * @param baseIndex index of the base model among the inputs, or -1
 * @param params    the tensor's resolved global parameters
 * @param inputs    opens the inputs for reading (range by range; nothing is widened whole)
 */
public record TensorView(String name, List<String> models, int baseIndex, TensorParams params,
                         Supplier<List<FloatSource>> inputs) {

    public TensorView {
        models = List.copyOf(models);
    }
}
