package dev.amalgam.modelio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A base weight with a LoRA delta applied, computed on read: element {@code (i, j)} is
 * {@code w[i][j] + scale * sum_k b[i][k] * a[k][j]} in FP32, the sum taken in order {@code k = 0 .. r-1}. Nothing
 * tensor-sized is held (the factors are small), so a LoRA-applied model streams like a stored one. Its dtype is
 * F32: the applied values are not rounded back to the base's dtype.
 */
final class LoraTensor implements Tensor {

    private final Tensor base;
    private final float scale;
    private final float[] b; // [rows, rank]
    private final float[] a; // [rank, cols]
    private final int rank;
    private final long cols;

    LoraTensor(Tensor base, float scale, float[] b, float[] a, int rank, long cols) {
        this.base = base;
        this.scale = scale;
        this.b = b;
        this.a = a;
        this.rank = rank;
        this.cols = cols;
    }

    @Override
    public String name() {
        return base.name();
    }

    @Override
    public DType dtype() {
        return DType.F32;
    }

    @Override
    public long[] shape() {
        return base.shape();
    }

    @Override
    public long numel() {
        return base.numel();
    }

    @Override
    public float getFloat(long index) {
        float[] one = new float[1];
        readFloats(index, one, 0, 1);
        return one[0];
    }

    @Override
    public void readFloats(long fromIndex, float[] dst, int dstOffset, int length) {
        base.readFloats(fromIndex, dst, dstOffset, length);
        long index = fromIndex;
        int off = dstOffset;
        int remaining = length;
        float[] acc = new float[(int) Math.min(remaining, cols)];
        while (remaining > 0) {
            int row = (int) (index / cols);
            int col = (int) (index % cols);
            int n = (int) Math.min(remaining, cols - col);
            java.util.Arrays.fill(acc, 0, n, 0f);
            for (int k = 0; k < rank; k++) {
                float bk = b[row * rank + k];
                int ak = (int) (k * cols + col);
                for (int j = 0; j < n; j++) {
                    acc[j] += bk * a[ak + j];
                }
            }
            for (int j = 0; j < n; j++) {
                dst[off + j] += scale * acc[j];
            }
            index += n;
            off += n;
            remaining -= n;
        }
    }

    @Override
    public ByteBuffer rawBytes() {
        if (numel() > Integer.MAX_VALUE / 4) {
            throw new IllegalStateException("tensor '" + name() + "' is too large for one buffer; read it with readFloats");
        }
        float[] v = toFloatArray();
        ByteBuffer buf = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(v);
        return buf.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public String toString() {
        return "LoraTensor[" + name() + ", rank " + rank + "]";
    }
}
