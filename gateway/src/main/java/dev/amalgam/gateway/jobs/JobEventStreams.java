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
 */
@Component
class JobEventStreams implements DisposableBean {

    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration MAX_STREAM = Duration.ofHours(6);

    private final JobService jobs;
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "amalgam-sse");
        t.setDaemon(true);
        return t;
    });

    JobEventStreams(JobService jobs) {
        this.jobs = jobs;
    }

    SseEmitter follow(UUID tenant, UUID jobId, long after) {
        SseEmitter emitter = new SseEmitter(MAX_STREAM.toMillis());
        var state = new Object() {
            long lastSeq = after;
            volatile ScheduledFuture<?> task;
            volatile boolean stopped;

            void stop() {
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
