package dev.amalgam.modelengine.judge;

/**
 * Spaces request starts evenly: at most {@code requestsPerMinute} a minute, each start at least 60 s / rate after
 * the one before (retries included). Even spacing rather than a bucket keeps a burst of retries from hitting an
 * endpoint that is already answering 429. Thread-safe.
 */
public final class RateLimiter {

    private final long intervalNanos;
    private long nextFree = Long.MIN_VALUE;

    public RateLimiter(double requestsPerMinute) {
        if (!(requestsPerMinute > 0)) {
            throw new IllegalArgumentException("requestsPerMinute must be positive, got " + requestsPerMinute);
        }
        this.intervalNanos = (long) Math.ceil(60e9 / requestsPerMinute);
    }

    /** The least time between two request starts, in nanoseconds. */
    public long intervalNanos() {
        return intervalNanos;
    }

    /** Blocks until a request may start. */
    public void acquire() throws InterruptedException {
        long wait;
        synchronized (this) {
            long now = System.nanoTime();
            long start = nextFree == Long.MIN_VALUE ? now : Math.max(now, nextFree);
            nextFree = start + intervalNanos;
            wait = start - now;
        }
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }
}
