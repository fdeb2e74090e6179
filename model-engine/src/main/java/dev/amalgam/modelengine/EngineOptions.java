package dev.amalgam.modelengine;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;

/**
 * Where and in which precision a model runs.
 *
 * @param device {@code Device.cpu()} or {@code Device.gpu(i)}
 * @param computeType {@link DataType#FLOAT32}, or {@link DataType#FLOAT16} (weights and matmuls in half precision;
 *     norms, softmax and log-probs still in FP32). FP16 is meant for GPUs; on a CPU it works but is slow, and is
 *     allowed so that the half-precision path can be tested anywhere.
 */
public record EngineOptions(Device device, DataType computeType) {

    public EngineOptions {
        if (computeType != DataType.FLOAT32 && computeType != DataType.FLOAT16) {
            throw new IllegalArgumentException("compute type must be FLOAT32 or FLOAT16, got " + computeType);
        }
    }

    /** FP32 on the CPU: the setting of tests and of the reference numbers. */
    public static EngineOptions cpu() {
        return new EngineOptions(Device.cpu(), DataType.FLOAT32);
    }

    /** FP16 on GPU {@code index}. */
    public static EngineOptions gpuFp16(int index) {
        return new EngineOptions(Device.gpu(index), DataType.FLOAT16);
    }

    /**
     * Parses a device setting: {@code cpu}, {@code gpu}, {@code gpu:1}, {@code cuda:0}, optionally followed by
     * {@code /fp16} or {@code /fp32} (GPU default fp16).
     */
    public static EngineOptions parse(String setting) {
        String[] parts = setting.trim().toLowerCase(java.util.Locale.ROOT).split("/");
        String dev = parts[0];
        Device device;
        if (dev.equals("cpu")) {
            device = Device.cpu();
        } else if (dev.startsWith("gpu") || dev.startsWith("cuda")) {
            int colon = dev.indexOf(':');
            device = Device.gpu(colon < 0 ? 0 : Integer.parseInt(dev.substring(colon + 1)));
        } else {
            throw new IllegalArgumentException("unknown device '" + parts[0] + "' (cpu, gpu, gpu:N)");
        }
        DataType type = device.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
        if (parts.length > 1) {
            type = switch (parts[1]) {
                case "fp16", "float16" -> DataType.FLOAT16;
                case "fp32", "float32" -> DataType.FLOAT32;
                default -> throw new IllegalArgumentException("unknown precision '" + parts[1] + "' (fp32, fp16)");
            };
        }
        return new EngineOptions(device, type);
    }
}
