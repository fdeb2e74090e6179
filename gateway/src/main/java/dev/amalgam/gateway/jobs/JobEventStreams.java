package dev.amalgam.gateway.jobs;

import dev.amalgam.platform.job.JobEvent;
import dev.amalgam.platform.job.JobService;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * Server-sent event streams of job events. One scheduler polls the registry for each open stream
 * (events are rows; polling keeps the gateway stateless) and closes the stream once the job is final.
 * Each API key may hold {@code amalgam.gateway.streams-per-key} streams open at once on a gateway
 * instance (default 16); one more answers 429, so one client cannot exhaust the gateway's threads.
 */
@Component
class JobEventStreams implements DisposableBean {

    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration MAX_STREAM = Duration.ofHours(6);

    private final JobService jobs;
    private final int perKey;
    private final java.util.concurrent.ConcurrentHashMap<UUID, java.util.concurrent.atomic.AtomicInteger> open =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "amalgam-sse");
        t.setDaemon(true);
        return t;
    });

    JobEventStreams(JobService jobs, @org.springframework.beans.factory.annotation.Value("${amalgam.gateway.streams-per-key:16}") int perKey) {
        this.jobs = jobs;
        this.perKey = perKey;
    }

    /** Streams open now for an API key. */
    int open(UUID key) {
        var n = open.get(key);
        return n == null ? 0 : n.get();
    }

    SseEmitter follow(UUID key, UUID tenant, UUID jobId, long after) {
        var count = open.computeIfAbsent(key, k -> new java.util.concurrent.atomic.AtomicInteger());
        if (count.incrementAndGet() > perKey) {
            count.decrementAndGet();
            throw new dev.amalgam.platform.error.ApiException(org.springframework.http.HttpStatus.TOO_MANY_REQUESTS,
                    dev.amalgam.platform.error.ProblemType.TOO_MANY_REQUESTS,
                    "This API key already follows " + perKey + " event streams; close one first");
        }
        SseEmitter emitter = new SseEmitter(MAX_STREAM.toMillis());
        var state = new Object() {
            long lastSeq = after;
            volatile ScheduledFuture<?> task;
            volatile boolean stopped;
            final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();

            void stop() {
                if (released.compareAndSet(false, true)) {
                    count.decrementAndGet();
                }
                stopped = true;
                if (task != null) {
                    task.cancel(false);
                }
            }
        };
        state.task = scheduler.scheduleWithFixedDelay(() -> {
            if (state.stopped) {
                state.stop();
                return;
            }
            try {
                List<JobEvent> events = jobs.events(tenant, jobId, state.lastSeq, 500);
                for (JobEvent e : events) {
                    emitter.send(SseEmitter.event().id(Long.toString(e.seq())).name(e.kind().name().toLowerCase()).data(e));
                    state.lastSeq = e.seq();
                }
                if (events.isEmpty() && jobs.get(tenant, jobId).status().isFinal()) {
                    emitter.complete();
                    state.stop();
                }
            } catch (IOException | IllegalStateException clientGone) {
                state.stop();
            } catch (RuntimeException e) {
                emitter.completeWithError(e);
                state.stop();
            }
        }, 0, POLL.toMillis(), TimeUnit.MILLISECONDS);
        emitter.onCompletion(state::stop);
        emitter.onTimeout(state::stop);
        emitter.onError(e -> state.stop());
        return emitter;
    }

    @Override
    public void destroy() {
        scheduler.shutdownNow();
    }
}
