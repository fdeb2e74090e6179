package dev.amalgam.merge.method;

/**
 * A method that reads its inputs through {@link MergeInputs#source} by range and hands its result to a sink
 * chunk by chunk, so a merge never holds the inputs or the result whole in FP32.
 */
public abstract class StreamedMergeMethod implements MergeMethod {

    @Override
    public final boolean streams(TensorParams params) {
        return true;
    }

    @Override
    public abstract void merge(MergeInputs in, FloatSink out);

    @Override
    public final float[] merge(MergeInputs in) {
        float[] result = new float[in.length()];
        merge(in, FloatSink.into(result));
        return result;
    }
}
