package dev.amalgam.fusion.testing;

/**
 * A daemon thread that runs the garbage collector every few milliseconds until closed: the JVM of a worker busy
 * with other jobs, where unreachable direct buffers are freed at any point of a training step.
 *
 * <pre>{@code
 * try (GcPressure gc = GcPressure.start()) { ... }
 * }</pre>
 */
public final class GcPressure implements AutoCloseable {

    private final Thread thread;
    private volatile boolean running = true;

    private GcPressure() {
        thread = new Thread(() -> {
            while (running) {
                System.gc();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "gc-pressure");
        thread.setDaemon(true);
        thread.start();
    }

    public static GcPressure start() {
        return new GcPressure();
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
