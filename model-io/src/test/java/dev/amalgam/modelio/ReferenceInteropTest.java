package dev.amalgam.modelio;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Checks reader and conversions against a file written by PyTorch 2.13 and the official
 * safetensors 0.8 package ({@code interop/make_reference.py}): every narrowing must match torch's
 * bits and every widening torch's float. With {@code -Dmodelio.interop.out=FILE} it also writes a
 * file for {@code interop/check_java_output.py} to check the other direction.
 */
class ReferenceInteropTest {

    private static final List<DType> FLOATS = List.of(DType.BF16, DType.F16, DType.F64, DType.F8_E4M3, DType.F8_E5M2);

    private static Path reference() throws URISyntaxException {
        return Path.of(ReferenceInteropTest.class.getResource("/reference/torch-reference.safetensors").toURI());
    }

    /** torch keeps E4M3 inputs to +-464 in the reference (beyond, torch gives NaN and we saturate). */
    private static float input(DType t, float x) {
        return t == DType.F8_E4M3 && Math.abs(x) > 464 ? 0f : x;
    }

    private static long ourBits(DType t, float x) {
        return switch (t) {
            case BF16 -> Dtypes.floatToBf16(x) & 0xFFFF;
            case F16 -> Dtypes.floatToF16(x) & 0xFFFF;
            case F64 -> Double.doubleToRawLongBits(x);
            case F8_E4M3 -> Dtypes.floatToE4M3(x) & 0xFF;
            case F8_E5M2 -> Dtypes.floatToE5M2(x) & 0xFF;
            default -> throw new AssertionError(t);
        };
    }

    private static long storedBits(DType t, ByteBuffer raw, int i) {
        return switch (t.size()) {
            case 1 -> raw.get(i) & 0xFF;
            case 2 -> raw.getShort(2 * i) & 0xFFFF;
            default -> raw.getLong(8 * i);
        };
    }

    private static boolean isNaN(DType t, long bits) {
        return switch (t) {
            case BF16 -> Float.isNaN(Dtypes.bf16ToFloat((short) bits));
            case F16 -> Float.isNaN(Dtypes.f16ToFloat((short) bits));
            case F64 -> Double.isNaN(Double.longBitsToDouble(bits));
            case F8_E4M3 -> Float.isNaN(Dtypes.e4m3ToFloat((byte) bits));
            case F8_E5M2 -> Float.isNaN(Dtypes.e5m2ToFloat((byte) bits));
            default -> throw new AssertionError(t);
        };
    }

    @Test
    void narrowingMatchesTorchBitForBit() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(reference())) {
            assertThat(f.metadata()).containsEntry("format", "pt");
            float[] src = f.tensor("source").toFloatArray();
            assertThat(src.length).isGreaterThan(400);
            for (DType t : FLOATS) {
                Tensor theirs = f.tensor("to." + t.safetensorsName());
                assertThat(theirs.dtype()).isEqualTo(t);
                ByteBuffer raw = theirs.rawBytes();
                List<String> diffs = new ArrayList<>();
                for (int i = 0; i < src.length; i++) {
                    float x = input(t, src[i]);
                    long ours = ourBits(t, x);
                    long stored = storedBits(t, raw, i);
                    boolean same = ours == stored || isNaN(t, ours) && isNaN(t, stored);
                    if (!same) {
                        diffs.add(String.format("%s(%a): ours %x torch %x", t, x, ours, stored));
                    }
                }
                assertThat(diffs).as(t.toString()).isEmpty();
            }
        }
    }

    @Test
    void wideningMatchesTorch() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(reference())) {
            for (DType t : FLOATS) {
                float[] ours = f.tensor("to." + t.safetensorsName()).toFloatArray();
                float[] theirs = f.tensor("widened." + t.safetensorsName()).toFloatArray();
                for (int i = 0; i < ours.length; i++) {
                    assertThat(Float.floatToIntBits(ours[i])).as("%s[%d]", t, i)
                            .isEqualTo(Float.floatToIntBits(theirs[i]));
                    assertThat(Float.floatToIntBits(f.tensor("to." + t.safetensorsName()).getFloat(i)))
                            .isEqualTo(Float.floatToIntBits(ours[i]));
                }
            }
            for (String n : List.of("BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64")) {
                Tensor ints = f.tensor("int." + n);
                assertThat(ints.dtype()).isEqualTo(DType.fromSafetensorsName(n));
                assertThat(ints.toFloatArray()).as(n).containsExactly(f.tensor("intf." + n).toFloatArray());
            }
            assertThat(f.tensor("scalar").shape()).isEmpty();
            assertThat(f.tensor("scalar").getFloat(0)).isEqualTo(2.5f);
            assertThat(f.tensor("empty").shape()).containsExactly(0, 4);
            assertThat(f.tensor("empty").numel()).isZero();
        }
    }

    @Test
    void writesAFileForThePythonCheckWhenAsked() throws Exception {
        String out = System.getProperty("modelio.interop.out");
        if (out == null) {
            return;   // the Python side runs by hand: see interop/check_java_output.py
        }
        float[] src;
        try (SafetensorsFile f = SafetensorsFile.open(reference())) {
            src = f.tensor("source").toFloatArray();
        }
        List<TensorSpec> specs = new ArrayList<>();
        specs.add(new TensorSpec("source", DType.F32, new long[] {src.length}));
        for (DType t : List.of(DType.BF16, DType.F16, DType.F32, DType.F64, DType.F8_E4M3, DType.F8_E5M2)) {
            specs.add(new TensorSpec("w." + t.safetensorsName(), t, new long[] {src.length}));
        }
        try (SafetensorsWriter w = SafetensorsWriter.create(Path.of(out), specs, Map.of("format", "pt"))) {
            w.write("source", src);
            for (TensorSpec s : specs.subList(1, specs.size())) {
                float[] in = src.clone();
                for (int i = 0; i < in.length; i++) {
                    in[i] = input(s.dtype(), in[i]);
                }
                w.write(s.name(), in);
            }
        }
    }
}
