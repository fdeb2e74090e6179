package dev.amalgam.modelengine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * Entry point to DJL's PyTorch engine, configured so that nothing is ever downloaded: the CPU natives come
 * from the {@code pytorch-native-cpu} jar on the classpath (GPU images put CUDA natives there instead) and
 * are extracted once to DJL's cache ({@code ~/.djl.ai}, or {@code DJL_CACHE_DIR}).
 *
 * <pre>{@code
 * try (NDManager manager = DjlRuntime.newManager(Device.cpu())) { ... }
 * }</pre>
 */
public final class DjlRuntime {

    /** Name of the DJL engine every array of this module lives on. */
    public static final String ENGINE = "PyTorch";

    private DjlRuntime() {
    }

    /** The PyTorch engine, after forcing DJL's offline mode (set before the engine class loads). */
    public static Engine engine() {
        // DJL reads this property when it resolves natives; "true" makes a missing native an error, not a download.
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        return Engine.getEngine(ENGINE);
    }

    /**
     * Turns autograd recording off on the calling thread. PyTorch's grad mode is per thread and on by
     * default; DJL turns it off only on the thread that created the engine, so code that may run on any
     * thread (job workers) calls this first and records gradients only inside a GradientCollector.
     */
    public static void disableGradientsOnThisThread() {
        engine();
        ai.djl.pytorch.jni.JniUtils.setGradMode(false);
    }

    /** A new root manager on {@code device}; the caller closes it. */
    public static NDManager newManager(Device device) {
        return engine().newBaseManager(device);
    }

    /** PyTorch's intra-op CPU threads (results of its reductions and of MKL depend on this count). */
    public static int intraOpThreads() {
        engine();
        return ai.djl.pytorch.jni.JniUtils.getNumThreads();
    }

    /** Number of CUDA devices visible to PyTorch (0 on CPU-only machines). */
    public static int gpuCount() {
        return engine().getGpuCount();
    }
}
