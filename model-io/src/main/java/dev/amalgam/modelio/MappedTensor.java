package dev.amalgam.modelio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;

/**
 * A tensor over one or more little-endian buffers ("pieces"). Every piece but the last holds exactly
 * {@code 1 << pieceShift} elements, so a tensor larger than 2 GiB is split on element boundaries and
 * an element never straddles two buffers. Reads use absolute buffer access only, so concurrent reads
 * are safe.
 */
final class MappedTensor implements Tensor {

    private static final int SCRATCH = 8192;
    /** Per-thread staging arrays for bulk reads, so small reads (one row) allocate nothing. */
    private static final ThreadLocal<Scratch> SCRATCHES = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        final short[] shorts = new short[SCRATCH];
        final byte[] bytes = new byte[SCRATCH];
        int[] ints;
        long[] longs;
        double[] doubles;
    }

    private final TensorInfo info;
    private final long numel;
    private final ByteBuffer[] pieces;
    private final int pieceShift;
    private final long pieceMask;
    // typed views of the pieces, the one matching the dtype (others null)
    private final ShortBuffer[] shorts;
    private final FloatBuffer[] floats;
    private final IntBuffer[] ints;
    private final LongBuffer[] longs;
    private final DoubleBuffer[] doubles;

    /**
     * @param pieces little-endian buffers, position 0, each (but the last) {@code elementsPerPiece * size} bytes
     * @param pieceShift log2 of the elements per piece
     */
    MappedTensor(TensorInfo info, ByteBuffer[] pieces, int pieceShift) {
        this.info = info;
        this.numel = info.numel();
        this.pieces = pieces;
        this.pieceShift = pieceShift;
        this.pieceMask = (1L << pieceShift) - 1;
        int n = pieces.length;
        DType t = info.dtype();
        shorts = t.size() == 2 ? new ShortBuffer[n] : null;
        floats = t == DType.F32 ? new FloatBuffer[n] : null;
        ints = t == DType.I32 || t == DType.U32 ? new IntBuffer[n] : null;
        longs = t == DType.I64 || t == DType.U64 ? new LongBuffer[n] : null;
        doubles = t == DType.F64 ? new DoubleBuffer[n] : null;
        for (int i = 0; i < n; i++) {
            ByteBuffer b = pieces[i].duplicate().order(ByteOrder.LITTLE_ENDIAN);
            if (shorts != null) {
                shorts[i] = b.asShortBuffer();
            } else if (floats != null) {
                floats[i] = b.asFloatBuffer();
            } else if (ints != null) {
                ints[i] = b.asIntBuffer();
            } else if (longs != null) {
                longs[i] = b.asLongBuffer();
            } else if (doubles != null) {
                doubles[i] = b.asDoubleBuffer();
            }
        }
    }

    @Override
    public String name() {
        return info.name();
    }

    @Override
    public DType dtype() {
        return info.dtype();
    }

    @Override
    public long[] shape() {
        return info.shape();
    }

    @Override
    public long numel() {
        return numel;
    }

    TensorInfo info() {
        return info;
    }

    @Override
    public float getFloat(long index) {
        if (index < 0 || index >= numel) {
            throw new IndexOutOfBoundsException("index " + index + " out of [0, " + numel + ") in tensor '" + name() + "'");
        }
        int p = (int) (index >>> pieceShift);
        int i = (int) (index & pieceMask);
        ByteBuffer b = pieces[p];
        return switch (info.dtype()) {
            case F32 -> floats[p].get(i);
            case BF16 -> Dtypes.bf16ToFloat(shorts[p].get(i));
            case F16 -> Dtypes.f16ToFloat(shorts[p].get(i));
            case F64 -> (float) doubles[p].get(i);
            case F8_E4M3 -> Dtypes.e4m3ToFloat(b.get(i));
            case F8_E5M2 -> Dtypes.e5m2ToFloat(b.get(i));
            case BOOL -> b.get(i) != 0 ? 1f : 0f;
            case U8 -> b.get(i) & 0xff;
            case I8 -> b.get(i);
            case I16 -> shorts[p].get(i);
            case U16 -> shorts[p].get(i) & 0xffff;
            case I32 -> ints[p].get(i);
            case U32 -> ints[p].get(i) & 0xffffffffL;
            case I64 -> longs[p].get(i);
            case U64 -> unsignedToFloat(longs[p].get(i));
        };
    }

    @Override
    public void readFloats(long fromIndex, float[] dst, int dstOffset, int length) {
        if (fromIndex < 0 || length < 0 || fromIndex > numel - length) {
            throw new IndexOutOfBoundsException("range [" + fromIndex + ", " + (fromIndex + length)
                    + ") out of [0, " + numel + ") in tensor '" + name() + "'");
        }
        if (dstOffset < 0 || dstOffset > dst.length - length) {
            throw new IndexOutOfBoundsException("destination range [" + dstOffset + ", " + (dstOffset + length)
                    + ") out of array of length " + dst.length);
        }
        long index = fromIndex;
        int off = dstOffset;
        int remaining = length;
        while (remaining > 0) {
            int p = (int) (index >>> pieceShift);
            int i = (int) (index & pieceMask);
            int n = (int) Math.min(remaining, (1L << pieceShift) - i);
            readPiece(p, i, dst, off, n);
            index += n;
            off += n;
            remaining -= n;
        }
    }

    /** Bulk-reads n elements from piece p starting at element i; converts in scratch-sized blocks. */
    private void readPiece(int p, int i, float[] dst, int off, int n) {
        DType t = info.dtype();
        if (t == DType.F32) {
            floats[p].get(i, dst, off, n);
            return;
        }
        int block = Math.min(n, SCRATCH);
        Scratch scratch = SCRATCHES.get();
        switch (t) {
            case BF16, F16, I16, U16 -> {
                short[] s = scratch.shorts;
                for (int done = 0; done < n; done += block) {
                    int m = Math.min(block, n - done);
                    shorts[p].get(i + done, s, 0, m);
                    int o = off + done;
                    if (t == DType.BF16) {
                        for (int k = 0; k < m; k++) {
                            dst[o + k] = Float.intBitsToFloat(s[k] << 16);
                        }
                    } else if (t == DType.F16) {
                        for (int k = 0; k < m; k++) {
                            dst[o + k] = Dtypes.f16ToFloat(s[k]);
                        }
                    } else if (t == DType.I16) {
                        for (int k = 0; k < m; k++) {
                            dst[o + k] = s[k];
                        }
                    } else {
                        for (int k = 0; k < m; k++) {
                            dst[o + k] = s[k] & 0xffff;
                        }
                    }
                }
            }
            case F64 -> {
                double[] d = scratch.doubles != null ? scratch.doubles : (scratch.doubles = new double[SCRATCH]);
                for (int done = 0; done < n; done += block) {
                    int m = Math.min(block, n - done);
                    doubles[p].get(i + done, d, 0, m);
                    for (int k = 0; k < m; k++) {
                        dst[off + done + k] = (float) d[k];
                    }
                }
            }
            case I32, U32 -> {
                int[] a = scratch.ints != null ? scratch.ints : (scratch.ints = new int[SCRATCH]);
                for (int done = 0; done < n; done += block) {
                    int m = Math.min(block, n - done);
                    ints[p].get(i + done, a, 0, m);
                    for (int k = 0; k < m; k++) {
                        dst[off + done + k] = t == DType.I32 ? a[k] : (a[k] & 0xffffffffL);
                    }
                }
            }
            case I64, U64 -> {
                long[] a = scratch.longs != null ? scratch.longs : (scratch.longs = new long[SCRATCH]);
                for (int done = 0; done < n; done += block) {
                    int m = Math.min(block, n - done);
                    longs[p].get(i + done, a, 0, m);
                    for (int k = 0; k < m; k++) {
                        dst[off + done + k] = t == DType.I64 ? a[k] : unsignedToFloat(a[k]);
                    }
                }
            }
            default -> {
                byte[] a = scratch.bytes;
                for (int done = 0; done < n; done += block) {
                    int m = Math.min(block, n - done);
                    pieces[p].get(i + done, a, 0, m);
                    int o = off + done;
                    for (int k = 0; k < m; k++) {
                        dst[o + k] = byteToFloat(t, a[k]);
                    }
                }
            }
        }
    }

    private static float byteToFloat(DType t, byte b) {
        return switch (t) {
            case F8_E4M3 -> Dtypes.e4m3ToFloat(b);
            case F8_E5M2 -> Dtypes.e5m2ToFloat(b);
            case BOOL -> b != 0 ? 1f : 0f;
            case U8 -> b & 0xff;
            case I8 -> b;
            default -> throw new AssertionError(t);
        };
    }

    /** Correctly rounded float of an unsigned 64-bit value (halving keeps the sticky bit). */
    private static float unsignedToFloat(long v) {
        if (v >= 0) {
            return v;
        }
        return ((v >>> 1) | (v & 1)) * 2f;
    }

    /** The stored bytes as consecutive little-endian read-only buffers (several for tensors over a piece). */
    ByteBuffer[] rawPieces() {
        ByteBuffer[] out = new ByteBuffer[pieces.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = pieces[i].duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }
        return out;
    }

    @Override
    public ByteBuffer rawBytes() {
        if (pieces.length > 1) {
            throw new IllegalStateException("tensor '" + name() + "' is " + info.byteSize()
                    + " bytes, more than one ByteBuffer can hold; read it with readFloats");
        }
        return pieces[0].duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public String toString() {
        return "Tensor[" + info + "]";
    }
}
