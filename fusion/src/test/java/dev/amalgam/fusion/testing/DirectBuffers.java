package dev.amalgam.fusion.testing;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/**
 * Frees the native memory of every unreachable direct buffer now, as a busy JVM's garbage collector may at any
 * moment. DJL's CPU arrays made from Java data wrap such buffers; freeing one that PyTorch still reads leaves
 * whatever the allocator writes there (its free-list pointers at least) in the array.
 */
public final class DirectBuffers {

    private DirectBuffers() {
    }

    /** Collects until the JVM's pool of direct buffers has stopped shrinking for three rounds. */
    public static void freeUnreachable() {
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        long last = direct.getCount();
        for (int stable = 0, round = 0; stable < 3 && round < 100; round++) {
            System.gc();
            try {
                Thread.sleep(10); // the cleaner thread frees the memory after the collection
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long now = direct.getCount();
            stable = now < last ? 0 : stable + 1;
            last = now;
        }
    }
}
