package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import java.util.List;
import java.util.Optional;

/** Passthrough: copies the single input tensor, optionally multiplied by a per-model {@code scale}. */
public final class PassthroughMerge implements MergeMethod {

    @Override
    public String name() {
        return "passthrough";
    }

    @Override
    public String reference() {
        return "https://github.com/arcee-ai/mergekit (passthrough)";
    }

    @Override
    public List<ParameterDef> modelParameters() {
        return List.of(ParameterDef.optionalNumber("scale"));
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.IGNORED;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return nonBaseModels == 1 ? Optional.empty()
                : Optional.of("passthrough takes exactly one model per slice, got " + nonBaseModels);
    }

    @Override
    public void merge(MergeInputs in, FloatSink out) {
        out.writeAll(passthrough(in));
    }

    private static float[] passthrough(MergeInputs in) {
        float[] x = in.tensors().get(0).clone();
        TensorParams p = in.modelParams().get(0);
        if (p.has("scale")) {
            float s = (float) p.number("scale");
            for (int i = 0; i < x.length; i++) {
                x[i] *= s;
            }
        }
        return x;
    }
}
